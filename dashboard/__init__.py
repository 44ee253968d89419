"""The dashboard's pages, one module each (Plan, Today, Progress, Calendar, Learners), and what they share.

Pages lay out widgets and call the engine and `planner.views`; they hold no scheduling logic.
"""
