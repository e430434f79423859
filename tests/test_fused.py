"""The compiled single-pass kernel equals the NumPy kernel and the lecture's loop."""

import time

import numba
import numpy as np
import pytest
import scipy.sparse as sp

from logitdescent import _fused, reference
from logitdescent.kernel import numpy_loss_and_grad, penalty_strength
from logitdescent.objective import LogisticObjective

from .conftest import random_problem

pytestmark = pytest.mark.skipif(not _fused.is_available(), reason="Numba is not installed")


def both_kernels(w, b, X, y, s, l2):
    fused = _fused.fused_loss_and_grad(w, b, X, y, s, l2)
    Xd = np.asarray(X, dtype=np.float64)  # the NumPy kernel in float64 is the reference
    numpy = numpy_loss_and_grad(w.astype(np.float64), b, Xd, y.astype(np.float64),
                                None if s is None else s.astype(np.float64), l2)
    return fused, numpy


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("l2", [0.0, 0.01])
@pytest.mark.parametrize("shape", [(7, 3), (1000, 13), (5000, 130), (603, 300)])
def test_fused_equals_numpy_float64(rng, order, weighted, l2, shape):
    X, y, w, b, s = random_problem(rng, m=shape[0], n=shape[1], scale=0.3)
    X = np.asarray(X, order=order)
    (J, dw, db), (J_np, dw_np, db_np) = both_kernels(w, b, X, y, s if weighted else None, l2)
    # Different summation orders of the same float64 terms: a few ulps apart.
    np.testing.assert_allclose(J, J_np, rtol=1e-13)
    np.testing.assert_allclose(dw, dw_np, rtol=1e-11, atol=1e-15)
    np.testing.assert_allclose(db, db_np, rtol=1e-11, atol=1e-15)
    assert dw.dtype == np.float64


@pytest.mark.parametrize("order", ["C", "F"])
# Long rows: smaller weights keep the scores z ~ 1 (600 features), off the sigmoid's flat tails.
@pytest.mark.parametrize("shape, scale", [((3000, 17), 1.0), ((1003, 600), 0.1)],
                         ids=["short-rows", "long-rows-pipelined"])
def test_fused_float32_computes_in_float64(rng, order, shape, scale):
    X, y, w, b, s = random_problem(rng, m=shape[0], n=shape[1], dtype=np.float32, scale=scale)
    X = np.asarray(X, order=order)
    (J, dw, db), (J_np, dw_np, db_np) = both_kernels(w.astype(np.float64), b, X, y, s, 0.0)
    assert dw.dtype == np.float32
    # Same float32 inputs, float64 arithmetic in both: only dw's final rounding differs.
    np.testing.assert_allclose(J, J_np, rtol=1e-13)
    np.testing.assert_allclose(dw, dw_np, rtol=2e-7, atol=1e-12)
    np.testing.assert_allclose(db, db_np, rtol=1e-11)


def _panel_edges(itemsize):
    """Row lengths at the register tiles' vector and panel edges, short rows only (< 2 KiB)."""
    lanes, columns = _fused._TILE_LANES, _fused._TILE_COLUMNS
    edges = {1, lanes - 1, lanes, lanes + 1, columns - 1, columns, columns + 1, 2 * columns + 3, 100}
    return sorted(n for n in edges if 0 < n * itemsize < _fused._LONG_ROW_BYTES)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_register_tiles_equal_numpy_at_panel_edges(rng, dtype):
    itemsize = np.dtype(dtype).itemsize
    for n in _panel_edges(itemsize):
        # 1003 rows: chunks and blocks of rows that are not multiples of 4 or 8
        X, y, w, b, s = random_problem(rng, m=1003, n=n, dtype=dtype, scale=0.3)
        fields = _fused._make_job(w.astype(np.float64), b, X, y, s, True)[0]
        assert fields[_fused._J_SCORING] == _fused._SCORE_TILES and fields[_fused._J_AHEAD] == 0
        (J, dw, db), (J_np, dw_np, db_np) = both_kernels(w.astype(np.float64), b, X, y, s, 0.01)
        np.testing.assert_allclose(J, J_np, rtol=1e-13, err_msg=f"n={n}")
        rtol = 1e-11 if dtype == np.float64 else 2e-7  # float32: dw's final rounding
        np.testing.assert_allclose(dw, dw_np, rtol=rtol, atol=1e-12, err_msg=f"n={n}")
        np.testing.assert_allclose(db, db_np, rtol=1e-11, atol=1e-15, err_msg=f"n={n}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_short_rows_out_of_cache_take_the_plain_loops_to_the_same_result(rng, dtype, monkeypatch):
    X, y, w, b, s = random_problem(rng, m=2001, n=100, dtype=dtype, scale=0.3)
    w = w.astype(np.float64)
    tiled = _fused.fused_loss_and_grad(w, b, X, y, s, 0.0)
    monkeypatch.setattr(_fused, "_PREFETCH_MIN_BYTES", 0)  # "out of cache": the prefetching plain loops
    assert _fused._make_job(w, b, X, y, s, True)[0][_fused._J_AHEAD] > 0
    plain = _fused.fused_loss_and_grad(w, b, X, y, s, 0.0)
    np.testing.assert_allclose(plain[0], tiled[0], rtol=1e-14)
    np.testing.assert_allclose(plain[1], tiled[1], rtol=1e-12 if dtype == np.float64 else 2e-7, atol=1e-15)
    np.testing.assert_allclose(plain[2], tiled[2], rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("dtype, n, in_cache, scoring", [
    (np.float64, 100, True, "_SCORE_TILES"),
    (np.float64, 100, False, "_SCORE_ROWS1"),
    (np.float64, 300, True, "_SCORE_ROWS1"),
    (np.float64, 300, False, "_SCORE_ROWS1"),
    (np.float64, 1536, False, "_SCORE_ROWS1"),
    (np.float64, 1537, False, "_SCORE_ROWS4"),
    (np.float32, 100, True, "_SCORE_TILES"),
    (np.float32, 100, False, "_SCORE_ROWS1"),
    (np.float32, 600, True, "_SCORE_ROWS4"),
    (np.float32, 600, False, "_SCORE_ROWS4"),
])
def test_each_layout_gets_its_scoring_loop(rng, monkeypatch, dtype, n, in_cache, scoring):
    if not in_cache:
        monkeypatch.setattr(_fused, "_PREFETCH_MIN_BYTES", 0)
    fields = _job(rng, m=64, n=n, dtype=dtype)[0]
    assert fields[_fused._J_SCORING] == getattr(_fused, scoring)
    # Long rows: float64 streams without it; float32 learns it per call (_ScheduleChoice)
    prefetch = not in_cache and n * np.dtype(dtype).itemsize < _fused._LONG_ROW_BYTES
    assert (fields[_fused._J_AHEAD] > 0) == prefetch


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("scoring", ["_SCORE_ROWS1", "_SCORE_ROWS4"])
@pytest.mark.parametrize("ahead", [0, 4096])
def test_every_plain_loop_on_long_rows_equals_numpy(rng, dtype, scoring, ahead):
    # 1003 rows: blocks and four-row groups with remainders
    fields, acc, out, arrays = _job(rng, m=1003, n=301, dtype=dtype)
    fields[_fused._J_KIND] = _fused._KIND_C64 if dtype == np.float64 else _fused._KIND_C32
    fields[_fused._J_SCORING], fields[_fused._J_AHEAD] = getattr(_fused, scoring), ahead
    _fused._run_alone(fields)
    c, dw, gs = _fused._reduce(acc, out)
    w64, b, X, y, s, _ = arrays
    s64 = s.astype(np.float64)
    J_np, dw_np, db_np = numpy_loss_and_grad(w64, b, X.astype(np.float64), y.astype(np.float64), s64, 0.0)
    S = s64.sum()  # the job's sums are not yet divided by the weight sum
    # float64 arithmetic in both, over the same float32 or float64 inputs
    np.testing.assert_allclose(c / S, J_np, rtol=1e-13)
    np.testing.assert_allclose(dw / S, dw_np, rtol=1e-11, atol=1e-15)
    np.testing.assert_allclose(gs / S, db_np, rtol=1e-11, atol=1e-15)


def test_register_tiles_fit_the_vector_registers():
    assert 1 <= _fused._TILE_VECTORS <= 16
    assert _fused._TILE_COLUMNS == _fused._TILE_LANES * _fused._TILE_VECTORS


def test_fused_equals_lecture_loop(rng):
    X, y, w, b, s = random_problem(rng, m=60, n=4)
    l2 = penalty_strength(0.5, s.sum())
    J, dw, db = _fused.fused_loss_and_grad(w, b, X, y, s, l2)
    J_ref, dw_ref, db_ref = reference.loss_and_grad(w.tolist(), b, X.tolist(), y.tolist(), s.tolist(), C=0.5)
    np.testing.assert_allclose(J, J_ref, rtol=1e-12)
    np.testing.assert_allclose(dw, dw_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(db, db_ref, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("z", [1e3, 1e20, -1e3, -1e20])
def test_fused_extreme_scores(z):
    X = np.ones((4, 1))
    y = np.array([1.0, 0.0, 1.0, 0.0])
    J, dw, db = _fused.fused_loss_and_grad(np.array([z]), 0.0, X, y, None, 0.0)
    assert np.isfinite(J) and np.all(np.isfinite(dw)) and np.isfinite(db)
    assert J == pytest.approx(abs(z) / 2, rel=1e-12)
    assert db == (0.5 if z > 0 else -0.5)


@pytest.mark.parametrize("shape, dtype, scale", [((220_000, 20), np.float64, 1.0), ((20_000, 600), np.float32, 0.1)],
                         ids=["short-rows", "long-float32-rows-pipelined"])
def test_fused_is_deterministic_across_thread_counts(rng, shape, dtype, scale):
    X, y, w, b, s = random_problem(rng, m=shape[0], n=shape[1], dtype=dtype, scale=scale)
    assert X.nbytes > _fused._MIN_PARALLEL_BYTES  # large enough for the threads to take part
    results = [_fused.fused_loss_and_grad(w, b, X, y, s, 0.0, n_threads=t) for t in (1, 2, 3)]
    for J, dw, db in results[1:]:
        assert J == results[0][0] and db == results[0][2]
        np.testing.assert_array_equal(dw, results[0][1])


def test_fused_never_copies_or_writes_inputs(rng):
    X, y, w, b, s = random_problem(rng, m=2000, n=8)
    for arr in (X, y, w, s):
        arr.flags.writeable = False
    before = X.copy()
    _fused.fused_loss_and_grad(w, b, X, y, s, 0.1)
    np.testing.assert_array_equal(X, before)


def test_supports_only_what_it_can_take_without_a_copy(rng):
    X = rng.standard_normal((50, 6))
    assert _fused.supports(X) and _fused.supports(np.asfortranarray(X))
    assert not _fused.supports(X[:, ::2])  # strided view
    assert not _fused.supports(sp.csr_matrix(X))
    assert not _fused.supports(X.astype(np.int64))


def test_objective_picks_the_fused_kernel_where_it_applies(rng):
    X, y, *_ = random_problem(rng, m=100, n=4)
    assert LogisticObjective(X, y)._use_fused
    assert not LogisticObjective(sp.csr_matrix(X), y)._use_fused
    assert not LogisticObjective(X, y, kernel="numpy")._use_fused
    with pytest.raises(ValueError, match="kernel='fused' needs"):
        LogisticObjective(sp.csr_matrix(X), y, kernel="fused")


def test_warm_up_compiles_every_kernel():
    times = _fused.warm_up()
    assert times.keys() == {"kernels", "threads"}
    # _run_job (the caller's part) holds the one function that runs a chunk of any job
    assert _fused._run_job.signatures and _fused._serve.signatures
    assert _fused.warm_up(threads=False).keys() == {"kernels"}  # what the CLI compiles before a fit


# ------------------------------------------------------------------ the thread team


def _job(rng, m=3000, n=40, dtype=np.float64):
    X, y, w, b, s = random_problem(rng, m=m, n=n, dtype=dtype, scale=0.3)
    arrays = (np.ascontiguousarray(w, dtype=np.float64), float(b), X, y, s.astype(dtype), True)
    fields, acc, out = _fused._make_job(*arrays)
    return fields, acc, out, arrays


def _assert_job_result(acc, out, arrays):
    """The job's partial sums give bit for bit what one thread computes."""
    c, dw, gs = _fused._reduce(acc, out)
    w64, b, X, y, s, _ = arrays
    J, dw_ref, db = _fused.fused_loss_and_grad(w64, b, X, y, s, 0.0, weight_sum=1.0, n_threads=1)
    assert c == J and gs == db
    np.testing.assert_array_equal(dw, dw_ref)


def test_a_worker_runs_a_whole_job_by_itself(rng):
    fields, acc, out, arrays = _job(rng)
    nchunks = int(fields[_fused._J_NCHUNKS])
    assert nchunks > 1
    fields[_fused._J_ACTIVE] = 1
    _fused._publish(fields, int(fields[_fused._J_WORD]))
    _fused._serve(fields, 0, 100, 0, 0)  # worker 0 takes every chunk, idles 100 rounds, returns
    assert fields[_fused._J_DONE] == fields[_fused._J_HELPED] == nchunks
    assert _fused._run_job(fields, 0, True) == 0  # the caller finds nothing left; no chunk failed
    _assert_job_result(acc, out, arrays)


def test_a_worker_leaves_jobs_that_do_not_want_it(rng):
    fields, acc, out, arrays = _job(rng)
    fields[_fused._J_ACTIVE] = 1
    _fused._publish(fields, int(fields[_fused._J_WORD]))
    _fused._serve(fields, 1, 100, 0, 0)  # worker 1, with one worker allowed
    assert fields[_fused._J_DONE] == 0
    assert _fused._run_job(fields, 0, True) == 0
    assert fields[_fused._J_HELPED] == 0
    _assert_job_result(acc, out, arrays)


@numba.njit
def _try_to_claim_with(job, stale_word):
    return _fused._compare_exchange(job, _fused._J_WORD, stale_word, stale_word + 1)


def test_a_stale_word_cannot_claim_a_chunk_of_the_next_job(rng):
    fields, acc, out, arrays = _job(rng)
    first_word = int(fields[_fused._J_WORD])  # no tag, no chunk taken
    _fused._publish(fields, (1 << 32) | first_word)
    stale = int(fields[_fused._J_WORD])  # a worker read this, then stalled
    _fused._run_job(fields, 0, True)
    _fused._publish(fields, (2 << 32) | first_word)  # the next job
    assert not _try_to_claim_with(fields, stale)
    assert _fused._run_job(fields, 0, True) == 0
    _assert_job_result(acc, out, arrays)


def test_the_team_workers_do_the_chunks(rng):
    """Left alone by the caller, the workers must wake up, take every chunk and report them done."""
    fields, acc, out, arrays = _job(rng)
    fields[_fused._J_ACTIVE] = 1
    team = _fused._get_team(1)
    for _ in range(3):
        team.run(fields, take_chunks=False)
        assert fields[_fused._J_HELPED] == fields[_fused._J_NCHUNKS]
        _assert_job_result(acc, out, arrays)


def test_an_interrupted_call_leaves_no_chunk_running(rng, monkeypatch):
    """An interrupt after the job is published: no worker may touch its (freed) arrays afterwards."""
    X, y, w, b, s = random_problem(rng, m=20000, n=40, scale=0.3)
    expected = _fused.fused_loss_and_grad(w, b, X, y, s, 0.0, n_threads=1)
    team = _fused._get_team(1)
    run_job = _fused._run_job

    def interrupted(job, spin_rounds, take_chunks):
        time.sleep(0.0002)  # the worker, awake from the calls before, takes chunks meanwhile
        raise KeyboardInterrupt

    for _ in range(3):
        _fused.fused_loss_and_grad(w, b, X, y, s, 0.0, n_threads=2)

    monkeypatch.setattr(_fused, "_run_job", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _fused.fused_loss_and_grad(w, b, X, y, s, 0.0, n_threads=2)
    word = int(team.job[_fused._J_WORD])
    assert word & 0xFFFF == (word >> 16) & 0xFFFF  # closed: no chunk left to take
    assert team.job[_fused._J_DONE] == team.job[_fused._J_HELPED]  # the chunks taken are done
    monkeypatch.setattr(_fused, "_run_job", run_job)
    for _ in range(20):
        J, dw, db = _fused.fused_loss_and_grad(w, b, X, y, s, 0.0, n_threads=2)
        assert J == expected[0] and db == expected[2]
        np.testing.assert_array_equal(dw, expected[1])


@numba.njit
def _claim_one(job):
    return _fused._claim(job)


def test_closing_a_job_waits_for_the_chunks_taken_and_no_more(rng):
    import threading

    fields, acc, out, arrays = _job(rng)
    _fused._publish(fields, (7 << 32) | int(fields[_fused._J_WORD]))
    assert _claim_one(fields) == 0  # a busy worker holds chunk 0
    closer = threading.Thread(target=_fused._close, args=(fields,))  # compiled: no GIL
    closer.start()
    closer.join(0.05)
    assert closer.is_alive()  # waits for the chunk out
    word = int(fields[_fused._J_WORD])
    assert word >> 32 == 7 and word & 0xFFFF == (word >> 16) & 0xFFFF == 1  # shrunk to that chunk
    assert _claim_one(fields) == -1  # nothing more to take
    fields[_fused._J_DONE] += 1  # the worker finishes its chunk
    closer.join(5)
    assert not closer.is_alive()
    _fused._close(fields)  # closing it again, as a second interrupt would, waits for nothing


def test_concurrent_callers_get_their_own_results(rng):
    """Several Python threads evaluating at once: one uses the team, the others run alone."""
    import threading

    problems = [random_problem(rng, m=8000, n=30, scale=0.3) for _ in range(4)]
    expected = [_fused.fused_loss_and_grad(w, b, X, y, s, 0.1, n_threads=1) for X, y, w, b, s in problems]
    failures = []

    def evaluate(k):
        X, y, w, b, s = problems[k]
        for _ in range(30):
            J, dw, db = _fused.fused_loss_and_grad(w, b, X, y, s, 0.1, n_threads=2 + k % 2)
            if J != expected[k][0] or db != expected[k][2] or not np.array_equal(dw, expected[k][1]):
                failures.append(k)

    threads = [threading.Thread(target=evaluate, args=(k,)) for k in range(len(problems))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert problems[0][0].nbytes > _fused._MIN_PARALLEL_BYTES
    assert not failures


def _team_run_in_child(seed):
    rng = np.random.default_rng(seed)
    fields, acc, out, arrays = _job(rng)
    fields[_fused._J_ACTIVE] = 1
    assert _fused._team is None  # the parent's team did not come along
    _fused._get_team(1).run(fields, take_chunks=False)  # only a live worker can do this
    _assert_job_result(acc, out, arrays)
    return int(fields[_fused._J_HELPED]) == int(fields[_fused._J_NCHUNKS])


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_forked_child_gets_a_team_of_its_own(rng):
    import multiprocessing

    _fused._get_team(1)  # the parent has a team
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply(_team_run_in_child, (0,))


@pytest.mark.parametrize("n", [600, 1000])
def test_both_long_float32_row_schedules_give_the_same_bits(rng, n):
    fields, acc, out, arrays = _job(rng, m=2000, n=n, dtype=np.float32)
    results = []
    for kind, ahead in _fused._F32_LONG_ROW_SCHEDULES:
        job = fields.copy()
        job[_fused._J_KIND], job[_fused._J_AHEAD] = kind, ahead
        _fused._run_alone(job)
        c, dw, gs = _fused._reduce(acc, out)
        results.append((c, dw, gs))
    (c0, dw0, gs0), (c1, dw1, gs1) = results
    assert c0 == c1 and gs0 == gs1
    np.testing.assert_array_equal(dw0, dw1)


def test_schedule_choice_alternates_then_keeps_the_faster():
    choice = _fused._ScheduleChoice(("a", "b"), trials=3)
    picks = []
    for seconds in ([5.0, 1.0] * 3):
        picks.append(choice.pick())
        choice.record(picks[-1], seconds)
    assert picks == [0, 1] * 3
    assert choice.best == 1 and choice.pick() == 1
    choice.record(1, 100.0)  # later timings change nothing
    assert choice.pick() == 1


def test_long_float32_rows_out_of_cache_learn_their_schedule(rng, monkeypatch):
    monkeypatch.setattr(_fused, "_PREFETCH_MIN_BYTES", 0)  # "out of cache" without 16 MiB of test data
    monkeypatch.setattr(_fused, "_f32_long_row_choice", {})
    X, y, w, b, s = random_problem(rng, m=1000, n=600, dtype=np.float32, scale=0.1)
    first = _fused.fused_loss_and_grad(w, b, X, y, s, 0.0, n_threads=1)
    for _ in range(2 * _fused._SCHEDULE_TRIALS):
        J, dw, db = _fused.fused_loss_and_grad(w, b, X, y, s, 0.0, n_threads=1)
        assert J == first[0] and db == first[2]
        np.testing.assert_array_equal(dw, first[1])
    assert _fused.chosen_schedules()[1] in ("pipelined", "prefetch")
