"""Seats and waiting lists: the single atomic path every enrollment and cancellation takes."""
