"""Every rule ID the code cites is defined in docs/ (docs/ARCHITECTURE.md, "Rule IDs").

A rule is defined by a list item or a heading of docs/*.md whose text begins with the ID, bold
or not (``- **NVS-18** ...``, ``- NVS-18 ...``, ``### NVS-18 ...``), or by a line beginning with
the bold ID (``**NVS-18** ...``). A citation is any ``FAMILY-n`` in
src/ or tests/ whose family is one of the rule families: the core ones below plus every family
the docs define.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CORE_FAMILIES = {"DEV", "FM", "HAL", "KV", "NVS", "LLK", "ZMS"}
DEFINITION = re.compile(
    r"^\s*(?:(?:[-*]|#{1,6})\s+(?:\*\*)?([A-Z]{2,5}-\d+)\b|\*\*([A-Z]{2,5}-\d+)\*\*)", re.MULTILINE
)
CITATION = re.compile(r"\b([A-Z]{2,5})-(\d+)\b")


def definitions(text: str) -> list[str]:
    """The rule IDs a Markdown text defines, in order."""
    return [listed or bold for listed, bold in DEFINITION.findall(text)]


def defined_ids() -> dict[str, Path]:
    ids: dict[str, Path] = {}
    for doc in sorted(DOCS.glob("*.md")):
        for rule in definitions(doc.read_text(encoding="utf-8")):
            ids.setdefault(rule, doc)
    return ids


def citations(text: str, families: set[str]) -> set[str]:
    """The rule IDs of the given families that a text cites."""
    return {f"{fam}-{num}" for fam, num in CITATION.findall(text) if fam in families}


def cited_ids(families: set[str]) -> dict[str, list[str]]:
    cited: dict[str, list[str]] = {}
    for top in ("src", "tests"):
        for path in sorted((ROOT / top).rglob("*.py")):
            for rule in citations(path.read_text(encoding="utf-8"), families):
                cited.setdefault(rule, []).append(str(path.relative_to(ROOT)))
    return cited


def test_definition_forms():
    text = ("- **NVS-18** Reads never write.\n### **KV-3** heading\n**LLK-1** bare\n"
            "- NVS-4 plain item\nsee **DEV-9** here\n- see DEV-10\n")
    assert definitions(text) == ["NVS-18", "KV-3", "LLK-1", "NVS-4"]
    assert citations("spec NVS-18, CRC-8 and SHA-256; KV-3.", {"NVS", "KV"}) == {"NVS-18", "KV-3"}


def test_every_cited_rule_is_defined():
    defined = defined_ids()
    families = CORE_FAMILIES | {rule.split("-")[0] for rule in defined}
    cited = cited_ids(families)
    assert cited, "no rule citations found: the scan is broken"
    missing = {rule: paths[:3] for rule, paths in cited.items() if rule not in defined}
    assert not missing, f"rule IDs cited but not defined in docs/: {missing}"


def test_no_rule_defined_twice():
    seen: dict[str, Path] = {}
    twice = []
    for doc in sorted(DOCS.glob("*.md")):
        for rule in definitions(doc.read_text(encoding="utf-8")):
            if rule in seen:
                twice.append((rule, seen[rule].name, doc.name))
            seen[rule] = doc
    assert not twice, f"rule IDs defined more than once: {twice}"


def test_core_documents_exist():
    for name in ("device", "flash-map", "alios-hal", "alios-kv", "zephyr-nvs", "llkernel", "ARCHITECTURE"):
        assert (DOCS / f"{name}.md").is_file(), name
