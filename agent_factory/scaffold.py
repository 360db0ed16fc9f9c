"""Templates for `agent-factory new`: commented specs that check clean."""

from __future__ import annotations

_AGENT = """\
---
id: {slug}
version: 0.1.0
status: draft
---
# Agent: {name}

<!-- Every section is optional except Purpose. Run `agent-factory check` after each edit:
     problems are reported with file:line:col and a hint. Reference: docs/spec-language.md -->

## Purpose
Describe in a sentence or two what {name} does and for whom.

## Inputs
<!-- one field per bullet: `- name: type — description`. Types: str, int, float, bool, url,
     list[T], enum(a|b), int[0..100], float[0..1]; a trailing ? marks a field optional -->
- query: str — the user's question

## Outputs
- answer: str — a short answer in plain English
- sources: list[url] — where each claim comes from

## Invariants
<!-- `**ID Title:** MUST|MUST NOT|SHOULD|SHOULD NOT rule`, optionally ending in `check: <expr>` in
     backticks; a check is enforced at run time, a rule without one goes into the prompt -->
1. **INV-001 Cite sources:** MUST return at least one source. `check: len(sources) >= 1`
2. **INV-002 Budget:** MUST NOT spend more than five cents per run. `check: run.cost_usd <= $0.05`

## Tools
<!-- built-in tools: web_search, wikipedia, http_fetch, current_time, calculator, read_file,
     write_file, list_directory; or bind your own: `- name — why (http: GET https://host/{{arg}})` -->
- web_search — find recent information

## Model
- task: research
- max_cost_per_run: $0.05

## Examples
### ✅ Answers with a source
**Input:** What changed in the EU AI Act this year?
**Expect:** len(sources) >= 1
"""

_TEAM = """\
# Team: {name}

<!-- A team routes each message to one member agent. Member paths are relative to this file. -->

## Purpose
Describe which requests {name} handles and how they are split between its members.

## Members
- general: {member} — routes: help, question

## Routing
- strategy: keyword
- default: general
"""

_COMPONENT = """\
---
id: {slug}
version: 0.1.0
status: draft
target: openhands
---
# Component: {name}

<!-- A component is code written by a coding agent and verified by the acceptance commands. -->

## Purpose
Describe the library or service {name} provides.

## Requirements
### REQ-{prefix}-001 First requirement
- MUST do the main thing
- SHOULD explain its errors

## Interface
```python
def main() -> None: ...
```

## Acceptance
- `python -m pytest -q`
"""


def scaffold(name: str, kind: str, member: str = "general.md") -> str:
    """The text of a new spec of `kind` called `name` (a team's first member is `member`)."""
    slug = "-".join(part for part in "".join(c if c.isalnum() else " " for c in name.lower()).split())
    prefix = "".join(word[0] for word in name.split() if word[:1].isalnum()).upper()[:4] or "REQ"
    template = {"agent": _AGENT, "team": _TEAM, "component": _COMPONENT}[kind]
    return template.format(name=name.strip(), slug=slug or "spec", prefix=prefix, member=member)
