"""Small X12 interchanges written for the tests: a purchase order's documents and its 997s."""

from __future__ import annotations


def interchange(
    sender: str, receiver: str, control: int, group: str, code: str, body: list[str],
    *, st: str = "0001", date: str = "20261123",
) -> bytes:  # fmt: skip
    """One ISA..IEA with one GS..GE holding one ST..SE of `body` segments."""
    isa = (
        f"ISA*00*          *00*          *ZZ*{sender:<15}*ZZ*{receiver:<15}*261123*0915*U*00401"
        f"*{control:09d}*0*P*>~"
    )
    segments = [f"ST*{code}*{st}", *body]
    se = f"SE*{len(segments) + 1}*{st}"
    lines = [
        isa,
        f"GS*{group}*{sender}*{receiver}*{date}*0915*{control}*X*004010~",
        *[s + "~" for s in segments],
        se + "~",
        f"GE*1*{control}~",
        f"IEA*1*{control:09d}~",
    ]
    return "\n".join(lines).encode()


def po_850(po: str = "PO-7781", control: int = 101) -> bytes:
    body = ["BEG*00*SA*" + po + "**20261123", "PO1*1*10*EA*9.5**VP*SKU-1", "CTT*1"]
    return interchange("DISTRIB", "SUPPLIER", control, "PO", "850", body)


def ack_997(of_group: int, of_code: str, status: str = "A", control: int = 900) -> bytes:
    body = [f"AK1*{ {'850': 'PO', '855': 'PR'}[of_code] }*{of_group}", f"AK2*{of_code}*0001",
            f"AK5*{status}", f"AK9*{status}*1*1*{1 if status == 'A' else 0}"]  # fmt: skip
    return interchange("SUPPLIER", "DISTRIB", control, "FA", "997", body)


def po_855(po: str = "PO-7781", control: int = 201) -> bytes:
    return interchange(
        "SUPPLIER", "DISTRIB", control, "PR", "855", ["BAK*00*AC*" + po + "*20261124"]
    )


def asn_856(po: str = "PO-7781", control: int = 301) -> bytes:
    body = ["BSN*00*ASN-55*20261125*1400", "HL*1**S", "REF*BM*BOL-9", "HL*2*1*O", f"PRF*{po}"]
    return interchange("SUPPLIER", "DISTRIB", control, "SH", "856", body)


def invoice_810(po: str = "PO-7781", control: int = 401) -> bytes:
    body = [f"BIG*20261128*INV-3*20261123*{po}", "TDS*9500"]
    return interchange("SUPPLIER", "DISTRIB", control, "IN", "810", body)
