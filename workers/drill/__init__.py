"""`warroom drill`: rehearse a whole incident against the real policy and the real workflow code in seconds.

scenario.py (the script, pydantic) -> scenario_file.py (YAML with line numbers in errors) -> runner.py (the
time-skipping server, the real worker and intake, a recording channel) -> DrillRun (record.py) -> scoring.py
(pure: the scorecard) and compare.py (pure: two runs) -> report.py (text, Markdown; JSON is the models).
"""
