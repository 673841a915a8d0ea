"""Provisioning: an environment's CloudFormation stack and its care (`ctsite provision`, `swap`).

`stack` plans, applies and destroys a stack; `check` compares a live (hand-made) environment
with the template (`roles` for its IAM roles, `template` for what both share); `environments`
names the environments and fills in the template's parameters (`templates/`); `swap` exchanges
the production and staging URLs. The static site's stack (`--env static`, `static.yaml`): `static`
fills in its parameters and measures an export's traffic, `static_cost` prices a month of it,
`static_check` compares its bucket with the template.
"""
