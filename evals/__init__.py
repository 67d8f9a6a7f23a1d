"""Evaluation of Vraagpunt: dataset checks, metrics, baselines, reports and run history."""
