"""A learner's own views: applying, my page with dates, rooms and sites, cancelling, the calendar feed."""
