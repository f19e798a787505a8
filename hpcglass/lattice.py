"""The lattice model of Sec. III C of the paper (Eqs. 8-10; docs/lattice.md).

Sites of a d-dimensional simple-cubic lattice of side L (odd, >= 3), unit spacing, open
boundaries, with the dipole site i at the centre ((L-1)/2, ..., (L-1)/2).  Each site carries an
i.i.d. frequency omega with density 5 omega^4 on [0, 1], sampled as omega = u^(1/5) with u a
float64 uniform on (0, 1].  One realization (fresh omega on all L^d sites) gives one value

    a_i = omega_i^-2 + sum_{j != i} r_ij^(-2d) omega_j^-2          (Eq. 8)
    b_i = omega_i^-4 + sum_{j != i} r_ij^(-2d) omega_j^-4          (Eq. 9)
    kappa_i = a_i / b_i                        in (0, 1]           (Eq. 10)

(all dimensionless; r_ij in lattice units).  With the weights w_j = r_ij^(-2d) for j != i and
w_i = 1 (:func:`site_weights`) and t_j = omega_j^-2 = u_j^(-2/5) >= 1, this is
a = sum_j w_j t_j and b = sum_j w_j t_j^2: one pass over the sites per realization.

Implementation (per buffer of whole realizations, no Python loop over sites):
  1. ``rng.random(out=buf)``: float64 uniforms on [0, 1), realization after realization, site
     after site in the order of :func:`site_weights`;
  2. ``u = 1 - buf`` (exact in float64), so u is on (0, 1] and omega = 0 never occurs;
  3. ``t = exp(-0.4 log u)`` with numpy's vectorised log/exp (see :func:`_omega_m2`);
  4. a numba kernel accumulates a and b (:func:`_weighted_sums`), in a fixed summation order.
"""

from __future__ import annotations

import numba
import numpy as np

# Default buffer size in sites (rounded down to whole realizations, at least one): the
# buffer is swept 5 times per fill, so it should stay in the 2 MiB L2 (64 Ki doubles = 512 KiB).
_BUFFER_SITES = 1 << 16


def site_weights(d: int, L: int) -> np.ndarray:
    """Weights w_j of Eqs. (8)-(9), float64 of shape (L**d,), dimensionless.

    Layout: sites in C order of their lattice coordinates (x_1, ..., x_d), x_k in 0..L-1, i.e.
    the flat index of ``np.zeros((L,) * d)``.  w = 1 at the centre site ((L-1)/2, ...) (the
    omega_i^-2 / omega_i^-4 term) and w = r^(-2d) elsewhere, r the Euclidean distance to the
    centre in lattice units.  Open boundaries: for odd L the offsets -(L-1)/2..(L-1)/2 are also
    the minimum-image offsets, so a periodic lattice would give the same weights.
    """
    d, L = int(d), int(L)
    if d < 1 or L < 3 or L % 2 == 0:
        raise ValueError(f"need d >= 1 and odd L >= 3, got d={d}, L={L}")
    offsets2 = (np.arange(L, dtype=np.float64) - (L - 1) // 2) ** 2
    r2 = np.zeros(1)
    for _ in range(d):  # one step per axis (d is small); each step is vectorised over all sites
        r2 = (r2[:, None] + offsets2[None, :]).ravel()
    w = np.ones_like(r2)
    far = r2 > 0
    w[far] = r2[far] ** (-float(d))  # r^(-2d) = (r^2)^(-d): exact integer r^2, no sqrt
    return w


def _omega_m2(u: np.ndarray) -> np.ndarray:
    """In place: u (uniforms on (0, 1], float64) -> t = omega^-2 = u^(-2/5); returns u.

    exp(-0.4 log u) rather than u ** -0.4: numpy vectorises log and exp (SIMD/SVML where the
    CPU has it), 2.0 ns per value here against 3.3 ns for np.power and 17-20 ns for a scalar
    pow in numba.  The two agree to a few ulp (|0.4 log u| <= 14.7 for u >= 2^-53), far below
    any statistical resolution; t >= 1 still holds (exp of a non-negative argument).
    """
    np.log(u, out=u)
    np.multiply(u, -0.4, out=u)
    np.exp(u, out=u)
    return u


@numba.njit(cache=True, nogil=True)
def _weighted_sums(t, w, a, b):  # pragma: no cover - compiled
    """a[k] = sum_j w[j] t[k, j], b[k] = sum_j w[j] t[k, j]^2 for each row k of t (m, nsites).

    Eight interleaved partial sums (j mod 8), combined pairwise: independent add chains keep
    the FPU busy without fastmath, so the summation order - and the result - is fixed by this
    code, not by the compiler or the vector width of the CPU.  Terms are all positive, so the
    order only moves the last bits.
    """
    n = t.shape[1]
    n8 = n - n % 8
    for k in range(t.shape[0]):
        row = t[k]
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
        b0 = b1 = b2 = b3 = b4 = b5 = b6 = b7 = 0.0
        for j in range(0, n8, 8):
            x = row[j]
            y = w[j] * x
            a0 += y
            b0 += y * x
            x = row[j + 1]
            y = w[j + 1] * x
            a1 += y
            b1 += y * x
            x = row[j + 2]
            y = w[j + 2] * x
            a2 += y
            b2 += y * x
            x = row[j + 3]
            y = w[j + 3] * x
            a3 += y
            b3 += y * x
            x = row[j + 4]
            y = w[j + 4] * x
            a4 += y
            b4 += y * x
            x = row[j + 5]
            y = w[j + 5] * x
            a5 += y
            b5 += y * x
            x = row[j + 6]
            y = w[j + 6] * x
            a6 += y
            b6 += y * x
            x = row[j + 7]
            y = w[j + 7] * x
            a7 += y
            b7 += y * x
        for j in range(n8, n):
            x = row[j]
            y = w[j] * x
            a0 += y
            b0 += y * x
        a[k] = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
        b[k] = ((b0 + b1) + (b2 + b3)) + ((b4 + b5) + (b6 + b7))


def kappa_from_uniforms(u: np.ndarray, w: np.ndarray) -> np.ndarray:
    """kappa_i (Eq. 10) of given realizations; the deterministic core of :func:`lattice_kappa`.

    u : float64 (n, nsites), uniforms on (0, 1] (omega = u^(1/5)), sites in the layout of
        :func:`site_weights`; not modified.
    w : float64 (nsites,), from :func:`site_weights`.
    Returns float64 (n,).  ``lattice_kappa(d, L, n, rng)`` equals, bitwise,
    ``kappa_from_uniforms(1 - rng.random((n, L**d)), site_weights(d, L))``.
    """
    t = np.array(u, dtype=np.float64, order="C", ndmin=2, copy=True)
    w = np.ascontiguousarray(w, dtype=np.float64)
    if t.shape[1] != w.shape[0]:
        raise ValueError(f"u has {t.shape[1]} sites per row, w has {w.shape[0]}")
    _omega_m2(t)
    a = np.empty(t.shape[0])
    b = np.empty(t.shape[0])
    _weighted_sums(t, w, a, b)
    return a / b


def generator(seed_sequence: np.random.SeedSequence) -> np.random.Generator:
    """The generator a lattice task draws from: SFC64 on the task's SeedSequence.

    SFC64 fills float64 uniforms at 2.4 ns each here against 4.4 ns for numpy's default PCG64,
    and the draw is about half the cost of a realization; its statistical quality is ample for
    this use.  Any numpy Generator works with :func:`lattice_kappa`.
    """
    return np.random.Generator(np.random.SFC64(seed_sequence))


def lattice_kappa(d: int, L: int, n: int, rng: np.random.Generator, chunk: int | None = None) -> np.ndarray:
    """n independent realizations of kappa_i (Eq. 10) on the d-dimensional lattice of side L.

    d >= 1, L odd >= 3, n >= 0; rng: a numpy Generator, advanced by exactly n * L**d float64
    draws.  chunk: realizations per buffer fill (default: as many as fit in about 2^16 sites,
    at least one).  Returns float64 (n,), each value in (0, 1].

    The uniforms are taken realization after realization, site after site (the layout of
    :func:`site_weights`), and a Generator's stream of float64 uniforms does not depend on how
    it is split into calls, so the result is a deterministic function of (d, L, n, the state of
    rng) and is bitwise independent of ``chunk``.
    """
    n = int(n)
    if n < 0:
        raise ValueError(f"need n >= 0, got {n}")
    w = site_weights(d, L)
    nsites = w.shape[0]
    if chunk is None:
        chunk = max(1, _BUFFER_SITES // nsites)
    elif int(chunk) < 1:
        raise ValueError(f"need chunk >= 1, got {chunk}")
    m = max(1, min(n, int(chunk)))
    buf = np.empty((m, nsites))  # reused: no allocation per fill
    a = np.empty(n)
    b = np.empty(n)
    for k0 in range(0, n, m):
        k1 = min(n, k0 + m)
        t = buf[: k1 - k0]  # leading rows of a C-contiguous array: contiguous
        rng.random(out=t)
        np.subtract(1.0, t, out=t)  # [0, 1) -> (0, 1], exact: omega = 0 never occurs
        _omega_m2(t)
        _weighted_sums(t, w, a[k0:k1], b[k0:k1])
    return a / b
