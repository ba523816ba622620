"""Inhibition, pure: a firing source alert mutes the target alerts whose `equal` labels it shares.

Alertmanager's rules: a source is an alert that fires (pending, resolved and inactive alerts
inhibit nothing) and matches every source matcher of a rule; a target matches every target
matcher and has the source's value for every `equal` label (an absent label is the empty
string on both sides). An alert never inhibits itself, and an alert that matches both sides of
a rule is only inhibited by sources that do not also match the target side (so two outages do
not mute each other). Silenced alerts still inhibit, as in Alertmanager.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from alerts.models import AlertRecord, InhibitRule, Matcher

__all__ = ["inhibited_by"]


def inhibited_by(
    alerts: Iterable[AlertRecord], rules: Sequence[InhibitRule]
) -> dict[str, list[str]]:
    """Fingerprint of each inhibited alert -> the fingerprints of the alerts inhibiting it."""
    everything = list(alerts)
    found: dict[str, set[str]] = {}
    for rule in rules:
        sources, targets = rule.parsed_sources(), rule.parsed_targets()
        # firing sources by their `equal` values, each with whether it also matches the targets
        by_key: dict[tuple[str, ...], list[tuple[str, bool]]] = {}
        for alert in everything:
            if alert.state == "firing" and _all(sources, alert.labels):
                key = _key(rule.equal, alert.labels)
                by_key.setdefault(key, []).append((alert.fingerprint, _all(targets, alert.labels)))
        if not by_key:
            continue
        for alert in everything:
            if not _all(targets, alert.labels):
                continue
            two_sided = _all(sources, alert.labels)
            for source_fp, source_is_target in by_key.get(_key(rule.equal, alert.labels), ()):
                if source_fp == alert.fingerprint or (two_sided and source_is_target):
                    continue
                found.setdefault(alert.fingerprint, set()).add(source_fp)
    return {fp: sorted(sources) for fp, sources in found.items()}


def _all(matchers: list[Matcher], labels: dict[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)


def _key(equal: list[str], labels: dict[str, str]) -> tuple[str, ...]:
    return tuple(labels.get(name, "") for name in equal)
