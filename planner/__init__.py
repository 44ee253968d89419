"""Study planner: turns a learning path and a learner's time into a dated, valid study schedule."""

__version__ = "0.1.0"
