"""One router per resource: decisions (check, score, optimise, scenarios), runs, health, metrics."""
