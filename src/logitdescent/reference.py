"""The lecture's for-loop, kept literally: the test oracle and a teaching aid.

This is logistic regression as the "Basics of Neural Network Programming"
lecture first writes it, one example at a time, before vectorizing::

    J = 0; dw_1 = 0; dw_2 = 0; db = 0
    for i = 1 to m:
        z(i) = w^T x(i) + b
        a(i) = sigma(z(i))
        J += -[y(i) log a(i) + (1 - y(i)) log(1 - a(i))]
        dz(i) = a(i) - y(i)
        dw_1 += x_1(i) dz(i);  dw_2 += x_2(i) dz(i);  ...
        db += dz(i)
    J /= m; dw_1 /= m; dw_2 /= m; db /= m

Pure Python (``math`` only, no NumPy), slow on purpose, and readable next to
the slide. It has the same signature and returns the same numbers as
:func:`logitdescent.loss_and_grad`, sample weights and L2 penalty included.
The only departure from the slide is that ``log a`` and ``log(1 - a)`` are
computed from ``z`` without rounding ``a`` first, so that ``z = 1e3`` still
gives a finite cost, as the vectorized kernel does.
"""

from __future__ import annotations

import math

__all__ = ["sigmoid", "log_sigmoid", "loss_and_grad", "softmax_loss_and_grad", "gradient_descent"]


def sigmoid(z):
    """``a = 1 / (1 + e^-z)`` for one number, without overflowing ``exp``."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def log_sigmoid(z):
    """``log(sigmoid(z))`` for one number: ``-log(1 + e^-z)``, stably."""
    if z >= 0:
        return -math.log1p(math.exp(-z))
    return z - math.log1p(math.exp(z))


def loss_and_grad(w, b, X, y, sample_weight=None, *, C=math.inf):
    """The lecture's loop over examples ``i`` (and features ``j`` for ``dw_j``).

    Parameters
    ----------
    w : sequence of float, length n
    b : float
    X : sequence of m sequences of n floats
        ``X[i][j]`` is feature ``j`` of example ``i``.
    y : sequence of m floats in {0, 1}
    sample_weight : sequence of m floats, optional
        Example ``i`` counts ``sample_weight[i]`` times; the cost is the
        weighted mean.
    C : float, default=inf
        Inverse L2 strength (scikit-learn's convention): adds
        ``||w||^2 / (2 C S)``, ``S`` the number (or total weight) of examples.

    Returns
    -------
    J : float
    dw : list of float, length n
    db : float
    """
    m = len(X)
    n = len(w)
    J = 0.0
    dw = [0.0] * n
    db = 0.0
    S = 0.0  # m when every example has weight 1
    for i in range(m):
        s = 1.0 if sample_weight is None else float(sample_weight[i])
        z = sum(float(w[j]) * float(X[i][j]) for j in range(n)) + float(b)
        a = sigmoid(z)
        log_a, log_1_minus_a = log_sigmoid(z), log_sigmoid(-z)
        L = -(y[i] * log_a + (1 - y[i]) * log_1_minus_a)
        J += s * L
        dz = a - y[i]
        for j in range(n):
            dw[j] += s * float(X[i][j]) * dz
        db += s * dz
        S += s
    J /= S
    dw = [dw_j / S for dw_j in dw]
    db /= S
    if C != math.inf:
        lam = 1.0 / (C * S)
        J += lam / 2 * sum(float(w_j) ** 2 for w_j in w)
        dw = [dw[j] + lam * float(w[j]) for j in range(n)]
    return J, dw, db


def softmax_loss_and_grad(W, b, X, y, sample_weight=None, *, C=math.inf):
    """The same loop with ``K`` outputs: softmax regression, one example at a time.

    For each example ``i``: ``z_k = w_k^T x + b_k`` for every class ``k``,
    ``a_k = e^{z_k} / sum_l e^{z_l}``, ``L = -log a_{y}``, ``dz_k = a_k - [k == y]``,
    ``dw_kj += x_j dz_k``, ``db_k += dz_k``. The exponentials are taken after
    subtracting ``max_l z_l`` (softmax does not change), so none overflows.

    Parameters
    ----------
    W : sequence of K sequences of n floats
    b : sequence of K floats
    X : sequence of m sequences of n floats
    y : sequence of m class indices in 0..K-1
    sample_weight : sequence of m floats, optional
    C : float, default=inf

    Returns
    -------
    J : float
    dW : list of K lists of n floats
    db : list of K floats
    """
    m, K, n = len(X), len(W), len(W[0])
    J = 0.0
    dW = [[0.0] * n for _ in range(K)]
    db = [0.0] * K
    S = 0.0
    for i in range(m):
        s = 1.0 if sample_weight is None else float(sample_weight[i])
        z = [sum(float(W[k][j]) * float(X[i][j]) for j in range(n)) + float(b[k]) for k in range(K)]
        z_max = max(z)
        exp_z = [math.exp(z_k - z_max) for z_k in z]
        total = sum(exp_z)
        a = [e / total for e in exp_z]
        L = -((z[y[i]] - z_max) - math.log(total))  # -log a_y, without rounding a_y first
        J += s * L
        for k in range(K):
            dz = a[k] - (1.0 if k == y[i] else 0.0)
            for j in range(n):
                dW[k][j] += s * float(X[i][j]) * dz
            db[k] += s * dz
        S += s
    J /= S
    dW = [[dW[k][j] / S for j in range(n)] for k in range(K)]
    db = [db_k / S for db_k in db]
    if C != math.inf:
        lam = 1.0 / (C * S)
        J += lam / 2 * sum(float(W[k][j]) ** 2 for k in range(K) for j in range(n))
        dW = [[dW[k][j] + lam * float(W[k][j]) for j in range(n)] for k in range(K)]
    return J, dW, db


def gradient_descent(w, b, X, y, *, learning_rate, num_iterations, C=math.inf):
    """The lecture's training loop: ``num_iterations`` updates of ``w`` and ``b``.

    Returns
    -------
    w : list of float
    b : float
    costs : list of float
        ``J`` before every update (the lecture prints every 100th).
    """
    w = [float(w_j) for w_j in w]
    b = float(b)
    costs = []
    for _ in range(num_iterations):
        J, dw, db = loss_and_grad(w, b, X, y, C=C)
        costs.append(J)
        w = [w[j] - learning_rate * dw[j] for j in range(len(w))]
        b = b - learning_rate * db
    return w, b, costs
