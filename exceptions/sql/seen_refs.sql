-- Which of the given occurrence refs are already recorded, and under which exception.
SELECT ref, exception_id FROM exception_occurrences WHERE list_contains($refs, ref)
