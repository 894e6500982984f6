"""The rule language: pack schema, compiler to durable_rules, facts from a plan, shipped packs.

``_durable.py`` is the only module that imports durable_rules.
"""
