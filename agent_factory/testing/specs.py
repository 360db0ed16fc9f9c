"""Small specs for tests that run agents.

`TWO_STEPS` drafts with one model call and polishes with another, so a test can hold, fail or count
each step (`draft`, then `polish`). `CALC` calls no model: one `tool:` step computes `6 * 7`.
"""

TWO_STEPS = """
# Agent: Two Steps

## Purpose
Drafts, then polishes.

## Inputs
- topic: str — the topic

## Outputs
- text: str — the polished text

## Workflow
### draft
- llm: simple
- outputs: rough
- prompt: Draft {topic}

### polish
- llm: simple
- outputs: text
- prompt: Polish {rough}

### Flow
- START → draft
- draft → polish
- polish → END
"""

CALC = """
# Agent: Calc

## Purpose
Computes a fixed sum.

## Inputs
- query: str — ignored

## Outputs
- total: float — the sum

## Tools
- calculator — arithmetic

## Workflow
### add
- tool: calculator
- args: expression = "6 * 7"
- outputs: total

### Flow
- START → add
- add → END
"""
