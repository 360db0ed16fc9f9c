"""Small specs for tests that run agents: `TWO_STEPS` drafts with one model call and polishes
with another, so a test can hold, fail or count each step (`draft`, then `polish`)."""

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
