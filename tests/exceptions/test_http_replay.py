"""Other middleware replays through a configured HTTP call: once per failure, with the plan."""

from __future__ import annotations

from pathlib import Path

from tests.exceptions.support import T0, Clock, running_tower
from tests.factories import make_event
from tests.sla.support import Receiver

ROUTING = """\
default: {{owner: integration-team}}
replay_actions:
  - name: mule-retry
    match: {{source: 'mule*'}}
    url: {url}
    headers: {{X-Replay-Key: k-1}}
"""


def test_an_exception_without_dead_letters_replays_through_its_http_action(
    tmp_path: Path,
) -> None:
    with Receiver() as receiver:
        routing = tmp_path / "routing.yaml"
        routing.write_text(ROUTING.format(url=receiver.url))
        with running_tower(tmp_path, Clock(T0), exceptions_routing_path=routing) as tower:
            tower.post(
                *[
                    make_event(
                        type="order.posting_failed",
                        source="mule.orders",
                        system="middleware",
                        status="error",
                        error=f"ERP down for {order}",
                        keys={"oms_order": order},
                        correlation_id=f"c-{order}",
                    )
                    for order in ("W-31", "W-32")
                ],  # fmt: skip
                make_event(
                    type="order.pick_failed",
                    source="wms.dc-east",
                    status="error",
                    error="bin empty",
                    keys={"oms_order": "W-33"},
                ),  # fmt: skip
            )
            tower.run(T0)
            [mule] = [e for e in tower.exceptions() if e["source"] == "mule.orders"]
            [wms] = [e for e in tower.exceptions() if e["source"] == "wms.dc-east"]
            url = f"/api/v1/exceptions/{mule['exception_id']}/replay"

            plan = tower.http.post(url, json={"by": "ana"}).json()
            late = tower.http.post(url, json={"by": "bo"}).json()
            assert plan["to_replay"] == 2
            assert {m["exchange"] for m in plan["messages"]} == {"mule-retry"}
            assert receiver.bodies == []  # a plan sends nothing
            done = tower.http.post(f"{url}/confirm", json={"by": "ana", "token": plan["token"]})
            assert done.json()["published"] == 2, done.text
            again = tower.http.post(f"{url}/confirm", json={"by": "bo", "token": late["token"]})
            assert (again.json()["published"], again.json()["already_replayed"]) == (0, 2)

            assert sorted(b["keys"]["oms_order"] for b in receiver.bodies) == ["W-31", "W-32"]
            first = receiver.bodies[0]
            assert (first["exception_id"], first["replayed_by"]) == (mule["exception_id"], "ana")
            assert first["correlation_id"].startswith("c-W-3")
            assert first["error"].startswith("ERP down for W-3")
            assert all(h.get("X-Replay-Key") == "k-1" for h in receiver.headers)
            assert tower.detail(mule["exception_id"])["status"] == "replayed"

            # no dead letters and no action that matches: refused, saying why
            refused = tower.http.post(
                f"/api/v1/exceptions/{wms['exception_id']}/replay", json={"by": "ana"}
            )
            assert refused.status_code == 409
            assert "no replay action of the routing rules matches it" in refused.json()["detail"]
