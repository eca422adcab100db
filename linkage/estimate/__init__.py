"""Multiple systems estimation: how many returns are on no list, from how the lists overlap.

table (capture histories), loglinear (Poisson models, empty overlaps, existence check),
select (AIC and Chan-Silverman-Vincent stepwise), interval (profile likelihood, bootstrap),
estimate (one period, or the reason there is no number), store (tables from the linked
store, the review band as links and non-links), command (the CLI's printing). Free of Airflow.
"""
