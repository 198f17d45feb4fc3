"""Fits the float32 erf/erfc polynomials in Sources/COmniKernels/internal.h (numpy + scipy).

erfc(a) = exp(-a^2) * t * P(t), t = 1 / (1 + 0.4 a):  P(t) ~ erfcx(a) / t on t in [0, 1], degree 8.
erf(x)  = x * Q(x^2) for |x| < 0.5:                   Q(s) ~ erf(sqrt s) / sqrt s, degree 4.
Both minimise the maximum relative error (Chebyshev least squares reweighted by Lawson's
iteration). Run: python3 scripts/fit_erf.py
"""
import numpy as np
import numpy.polynomial.chebyshev as C
from numpy.polynomial import Polynomial
from scipy.special import erf, erfcx


def lawson(u, g, deg, iterations=60):
    """Chebyshev coefficients on u in [-1, 1] minimising max |p(u) - g| / g."""
    w = np.ones_like(u)
    for _ in range(iterations):
        c = C.chebfit(u, g, deg, w=np.sqrt(w) / g)
        err = (C.chebval(u, c) - g) / g
        w = w * np.abs(err)
        w /= w.sum()
    return c, np.abs(err).max()


def monomial(c, lo, hi):
    """Chebyshev coefficients on [lo, hi] as monomial coefficients in the original variable."""
    return Polynomial(C.cheb2poly(c))(Polynomial([-(hi + lo) / (hi - lo), 2 / (hi - lo)])).coef


nodes = 0.5 * (1 - np.cos(np.pi * (np.arange(4000) + 0.5) / 4000))   # Chebyshev nodes on [0, 1]

p = float(np.float32(0.4))
t = nodes[nodes > 1e-9]
c, e = lawson(2 * t - 1, erfcx((1 / t - 1) / p) / t, 8)
print("erfc P(t), p = %.9g, max relative error %.3g" % (p, e))
print(", ".join("%.9e" % np.float32(v) for v in monomial(c, 0, 1)))

thr2 = 0.25
s = thr2 * nodes
c, e = lawson(2 * s / thr2 - 1, erf(np.sqrt(s)) / np.sqrt(s), 4)
print("erf Q(x^2) for |x| < 0.5, max relative error %.3g" % e)
print(", ".join("%.9e" % np.float32(v) for v in monomial(c, 0, thr2)))
