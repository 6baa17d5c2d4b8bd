"""Apply: the state store and its journal, the executor, settling unknown outcomes, and which site a run talks to."""
