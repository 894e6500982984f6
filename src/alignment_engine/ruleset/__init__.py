"""The rule language: pack schema, compiler to durable_rules, facts from a plan, shipped packs.

The ``durable`` subpackage is the only code that imports durable_rules; the rest of the package
reaches it through that subpackage's interface (``RuleEngine``, ``Match``, ``compile_ruleset``
and the engine's limits).
"""
