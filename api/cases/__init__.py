"""Cases, the closed loop: states and legal moves, deadlines, opening cases from events, case policies,
signed callbacks from the case system, and the ``case.due_soon`` job."""
