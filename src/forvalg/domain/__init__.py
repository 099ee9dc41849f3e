"""The business, in pure code: numbers, orders and their life cycle, the working-day calendar.

Nothing here does I/O or imports a framework; everything takes values and returns values.
"""
