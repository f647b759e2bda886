"""ITC-2007 track 3 (curriculum-based course timetabling): reader, writer, scorer and solver.

The public benchmark is the campus timetable problem in its purest form; we measure the
solver approach here before applying it to our own timetable.
"""
