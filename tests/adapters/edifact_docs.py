"""Small EDIFACT interchanges written for the tests: a purchase order's messages and a CONTRL."""

from __future__ import annotations


def interchange(
    sender: str, receiver: str, control: str, kind: str, body: list[str], *, ref: str = "1"
) -> bytes:
    """UNA, one UNB..UNZ holding one UNH..UNT message of `body` segments."""
    segments = [f"UNH+{ref}+{kind}:D:96A:UN:EAN008", *body]
    lines = [
        "UNA:+.? '",
        f"UNB+UNOC:3+{sender}:14+{receiver}:14+261123:0915+{control}'",
        *[s + "'" for s in segments],
        f"UNT+{len(segments) + 1}+{ref}'",
        f"UNZ+1+{control}'",
    ]
    return "\n".join(lines).encode()


def orders(po: str = "PO-4411", control: str = "7001") -> bytes:
    body = [f"BGM+220+{po}+9", "DTM+137:20261123:102", "NAD+BY+5400110000009::9",
            "CUX+2:EUR:9", "LIN+1++5400111864181:EN", "QTY+21:12", "UNS+S"]  # fmt: skip
    return interchange("BUYER", "SUPPLIER", control, "ORDERS", body)


def ordrsp(po: str = "PO-4411", control: str = "8001", function: str = "29") -> bytes:
    body = [f"BGM+231+RSP-1+{function}", "DTM+137:202611240830:203", f"RFF+ON:{po}"]
    return interchange("SUPPLIER", "BUYER", control, "ORDRSP", body)


def desadv(pos: tuple[str, ...] = ("PO-4411",), control: str = "8002") -> bytes:
    body = ["BGM+351+DES-77+9", "DTM+137:20261125:102", "RFF+BM:BOL-5",
            *[f"RFF+ON:{po}" for po in pos], "CPS+1", "LIN+1++5400111864181:EN"]  # fmt: skip
    return interchange("SUPPLIER", "BUYER", control, "DESADV", body)


def invoic(po: str = "PO-4411", control: str = "8003") -> bytes:
    body = ["BGM+380+INV-900+9", "DTM+137:20261128:102", f"RFF+ON:{po}", "CUX+2:EUR:4",
            "UNS+S", "MOA+77:1234.50"]  # fmt: skip
    return interchange("SUPPLIER", "BUYER", control, "INVOIC", body)


def contrl(of_control: str, of_ref: str = "1", of_kind: str = "ORDERS", action: str = "7",
           control: str = "9001") -> bytes:  # fmt: skip
    body = [f"UCI+{of_control}+BUYER:14+SUPPLIER:14+{action}",
            f"UCM+{of_ref}+{of_kind}:D:96A:UN+{action}"]  # fmt: skip
    return interchange("SUPPLIER", "BUYER", control, "CONTRL", body, ref="C1")
