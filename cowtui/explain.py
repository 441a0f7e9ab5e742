"""``cowtui --explain [RULE]``: what a rule means and where to look."""

from __future__ import annotations

from machine.introspect.rules import MISTAKES, RULES


def explanation(rule: str) -> str:
    """The rule's two lines: the invariant, then the usual mistake."""
    return f"{RULES[rule]}\n{MISTAKES[rule]}"


def explain(rule: str | None) -> tuple[str, int]:
    """(text, exit status): every rule listed when ``rule`` is empty or None;
    an unknown rule is bad input (status 2)."""
    if not rule:
        width = max(map(len, RULES))
        return "\n".join(f"{name:<{width}}  {RULES[name]}" for name in RULES), 0
    if rule not in RULES:
        return (f"cowtui: --explain {rule}: no such rule (one of: {', '.join(RULES)})", 2)
    return f"{rule}\n  {RULES[rule]}\n  {MISTAKES[rule]}", 0
