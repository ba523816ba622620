"""The business flows of the demo estate, as pure functions from a seeded Flow to events."""

from simulator.flows.common import Flow
from simulator.flows.inventory import inventory_change
from simulator.flows.orders import OrderPlan, order_group
from simulator.flows.purchasing import purchase_order
from simulator.flows.returns import customer_return

__all__ = [
    "Flow",
    "OrderPlan",
    "customer_return",
    "inventory_change",
    "order_group",
    "purchase_order",
]
