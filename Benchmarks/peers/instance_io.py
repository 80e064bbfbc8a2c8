"""Reader for the `slotsim-batch-instance 1` text format (shared by the peer scripts).

Format::

    slotsim-batch-instance 1
    <R> <S> <K>
    <capacity of session 0>            (S lines)
    ...
    <p_0_1> ... <p_0_K>                (R lines: 0-based session indices,
    ...                                 most preferred first, distinct)

Every session ranks registrants by registrant index (index 0 = highest
priority everywhere).
"""

import numpy as np

MAGIC = "slotsim-batch-instance"
FORMAT_VERSION = 1


class Instance:
    __slots__ = ("R", "S", "K", "capacities", "prefs")

    def __init__(self, R, S, K, capacities, prefs):
        self.R = R  # number of registrants
        self.S = S  # number of sessions
        self.K = K  # preference-list length
        self.capacities = capacities  # int64[S]
        self.prefs = prefs  # int32[R, K], row r = registrant r's ranked sessions


def read_instance(path, validate=True):
    """Parse an instance file into an Instance (numpy arrays)."""
    with open(path, "rb") as f:
        header = f.readline().split()
        if len(header) != 2 or header[0].decode() != MAGIC:
            raise ValueError(f"{path}: not a {MAGIC} file (header {header!r})")
        if int(header[1]) != FORMAT_VERSION:
            raise ValueError(f"{path}: unsupported format version {header[1]!r}")
        dims = f.readline().split()
        if len(dims) != 3:
            raise ValueError(f"{path}: second line must be '<R> <S> <K>'")
        R, S, K = (int(x) for x in dims)
        if R < 0 or S < 0 or K < 0:
            raise ValueError(f"{path}: negative dimension in {dims!r}")
        # The rest is whitespace-separated integers; this is much faster than
        # np.loadtxt at 10^6 lines.
        body = np.array(f.read().split(), dtype=np.int64)
    expected = S + R * K
    if body.size != expected:
        raise ValueError(
            f"{path}: expected {S} capacities + {R}x{K} preferences = {expected} "
            f"integers after the header, found {body.size}"
        )
    capacities = body[:S].copy()
    prefs = body[S:].reshape(R, K).astype(np.int32)
    if validate:
        if (capacities < 0).any():
            raise ValueError(f"{path}: negative session capacity")
        if prefs.size and (prefs.min() < 0 or prefs.max() >= S):
            raise ValueError(f"{path}: preference outside 0..{S - 1}")
        if K > 1 and R > 0:
            srt = np.sort(prefs, axis=1)
            if (srt[:, 1:] == srt[:, :-1]).any():
                bad = int(np.nonzero((srt[:, 1:] == srt[:, :-1]).any(axis=1))[0][0])
                raise ValueError(f"{path}: registrant {bad} lists a session twice")
    return Instance(R, S, K, capacities, prefs)


def write_assignment(path, assignment):
    """Write one line per registrant: assigned session index or -1."""
    assignment = np.asarray(assignment, dtype=np.int64)
    with open(path, "w") as f:
        if assignment.size:
            f.write("\n".join(map(str, assignment.tolist())))
            f.write("\n")


def read_assignment(path):
    with open(path, "rb") as f:
        return np.array(f.read().split(), dtype=np.int64)
