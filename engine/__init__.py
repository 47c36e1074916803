"""The aftersales engine: deploy, run, persist and audit BPMN process instances (no Flask)."""
