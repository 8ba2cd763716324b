"""Compiled loops of the mechanisms (numba), kept apart so the public modules stay typed.

Each kernel is written as plain Python on NumPy arrays and compiled with ``numba.njit``;
the pure-Python function stays available (``*_py``) for reading and for debugging with
``NUMBA_DISABLE_JIT=1``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numba
import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]


def deferred_acceptance_py(
    choices: NDArray[np.int32], pair_rank: IntArray, capacity: IntArray
) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """Student-proposing deferred acceptance with a max-heap of held applicants per school.

    Returns the school index (``-1`` unplaced) and the 0-based choice index of each applicant.
    The order in which free applicants propose does not change the outcome (the
    student-optimal stable matching is unique), so a stack is used.
    """
    n, k = choices.shape
    m = capacity.shape[0]
    seats = np.minimum(capacity, n)
    offsets = np.zeros(m + 1, dtype=np.int64)
    for school in range(m):
        offsets[school + 1] = offsets[school] + seats[school]
    heap_rank = np.empty(offsets[m], dtype=np.int64)
    heap_app = np.empty(offsets[m], dtype=np.int64)
    size = np.zeros(m, dtype=np.int64)
    next_choice = np.zeros(n, dtype=np.int32)
    assigned = np.full(n, -1, dtype=np.int32)
    stack = np.arange(n - 1, -1, -1, dtype=np.int64)
    top = n
    while top > 0:
        top -= 1
        a = stack[top]
        while True:
            j = next_choice[a]
            if j >= k:
                break
            s = choices[a, j]
            if s < 0:
                break
            next_choice[a] = j + 1
            cap = seats[s]
            if cap == 0:
                continue
            r = pair_rank[a, j]
            base = offsets[s]
            if size[s] < cap:
                # push and sift up (max-heap on rank: the root is the worst held applicant)
                i = size[s]
                size[s] += 1
                while i > 0:
                    parent = (i - 1) // 2
                    if heap_rank[base + parent] >= r:
                        break
                    heap_rank[base + i] = heap_rank[base + parent]
                    heap_app[base + i] = heap_app[base + parent]
                    i = parent
                heap_rank[base + i] = r
                heap_app[base + i] = a
                assigned[a] = s
                break
            if r >= heap_rank[base]:
                continue
            evicted = heap_app[base]
            # replace the root and sift down
            pos = 0
            cnt = size[s]
            while True:
                left = 2 * pos + 1
                if left >= cnt:
                    break
                child = left
                if left + 1 < cnt and heap_rank[base + left + 1] > heap_rank[base + left]:
                    child = left + 1
                if heap_rank[base + child] <= r:
                    break
                heap_rank[base + pos] = heap_rank[base + child]
                heap_app[base + pos] = heap_app[base + child]
                pos = child
            heap_rank[base + pos] = r
            heap_app[base + pos] = a
            assigned[a] = s
            assigned[evicted] = -1
            a = evicted
    choice_index = np.full(n, -1, dtype=np.int32)
    for applicant in range(n):
        if assigned[applicant] >= 0:
            choice_index[applicant] = next_choice[applicant] - 1
    return assigned, choice_index


def serial_dictatorship_py(
    choices: NDArray[np.int32], order: IntArray, capacity: IntArray
) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """Applicants in ``order`` each take their best choice that still has a seat."""
    n, k = choices.shape
    left = capacity.copy()
    assigned = np.full(n, -1, dtype=np.int32)
    choice_index = np.full(n, -1, dtype=np.int32)
    for t in range(n):
        a = order[t]
        for j in range(k):
            s = choices[a, j]
            if s < 0:
                break
            if left[s] > 0:
                left[s] -= 1
                assigned[a] = s
                choice_index[a] = j
                break
    return assigned, choice_index


_Kernel = Callable[..., tuple[NDArray[np.int32], NDArray[np.int32]]]


def _jit(function: Callable[..., Any]) -> _Kernel:
    return cast(_Kernel, numba.njit(cache=True, nogil=True)(function))


deferred_acceptance_kernel = _jit(deferred_acceptance_py)
serial_dictatorship_kernel = _jit(serial_dictatorship_py)
