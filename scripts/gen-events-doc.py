#!/usr/bin/env python3
"""Regenerates docs/events.md: docs/events.head.md, then per family and type
the fields (from events/src/types/*.rs) and the example printed by
`showrunner events examples` (read from stdin).

    showrunner events examples | scripts/gen-events-doc.py > docs/events.md
"""
import json, re, sys, pathlib

root = pathlib.Path(__file__).resolve().parent.parent
examples = {}
for line in sys.stdin:
    if line.strip():
        e = json.loads(line)
        examples.setdefault(e["event_type"], line.strip())

out = [(root / "docs/events.head.md").read_text()]
for fam in ["player", "watch", "billing", "catalog", "user", "notification", "campaign"]:
    src = (root / f"events/src/types/{fam}.rs").read_text()
    body = src[src.index("event_family!"):]
    out.append(f"\n### Family `{fam}`\n")
    for m in re.finditer(r"((?:\s*///[^\n]*\n)+)\s*(\w+) = \"(\w+)\" \{(.*?)\},", body, re.S):
        doc = " ".join(l.strip()[3:].strip() for l in m.group(1).strip().splitlines())
        name, fields = m.group(3), m.group(4)
        out.append(f"\n#### `{name}`\n\n{doc}\n")
        rows = re.findall(r'///\s*([^\n]*)\n\s*(\w+): ([^,\n]+),', fields)
        if rows:
            out.append("\n| field | type | required | meaning |\n|---|---|---|---|")
            for d, f, ty in rows:
                opt = ty.startswith("Option<")
                inner = ty[7:-1] if opt else ty
                out.append(f"| `{f}` | {inner} | {'no' if opt else 'yes'} | {d} |")
        out.append(f"\n```json\n{examples[name]}\n```")
print("\n".join(out))
