"""Predictive multiplicity: the inputs as candidate models for one decision (Rashomon set, LDA)."""
