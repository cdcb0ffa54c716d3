"""Seeded mutation fuzz of every issued form (xlsx and docx) against `validate_file`.

Every form is issued in every format it is issued in, filled with realistic data and
validated (`seeds`); its data is the oracle. Operators (`ops_generic`, `ops_xlsx`,
`ops_docx`) mutate the file: bytes, zip structure, XML spellings, defined names, shared
strings, cells, tables, content controls, identity. Each mutant must come back VALID with
the oracle's data, or refused with at least one issue code; a respelling that keeps the
meaning must come back VALID (a refusal there is a *false refusal*); a formula in an input
cell must be refused.

A mutant is reproduced from its key ``form:format:operator:n`` (``n`` seeds
``random.Random`` with the key). The test suite runs a small round (``tests/test_fuzz.py``);
a larger run is one command::

    python -m tests.fuzz --count 5000 --seed 1

It prints the mutants per operator and outcome, the peak memory of the mutants (each read
in a worker process whose address space is limited, 2048 MB by default), the refusal codes,
and every violation, false refusal, crash, hang and abort with its key and the data diff.
``--only KEY`` re-runs one mutant (``--save PATH`` writes it), ``--workers``, ``--timeout``
and ``--memory-mb`` bound the pooled run, and the exit code is 1 when any violation, crash,
hang or abort was found.
"""
