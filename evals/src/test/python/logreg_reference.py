"""scipy reference for msts LogisticRegression (sklearn's objective): run python3 logreg_reference.py.

min_{w,b} 0.5*|w|^2 + C * sum log(1 + exp(-s_i (w.x_i + b))), solved with scipy L-BFGS-B to tight tolerance.
Writes ../resources/msts/evals/logreg_reference.json with three cases (overlapping, separable, wide).
"""
import json, os
import numpy as np
from scipy.optimize import minimize

def solve(X, y, C):
    s = np.where(y, 1.0, -1.0)
    d = X.shape[1]
    def f(theta):
        w, b = theta[:d], theta[d]
        z = X @ w + b
        m = -s * z
        loss = np.logaddexp(0, m).sum()
        p = 1 / (1 + np.exp(-m))
        gz = -s * p
        return 0.5 * w @ w + C * loss, np.concatenate([w + C * (X.T @ gz), [C * gz.sum()]])
    r = minimize(f, np.zeros(d + 1), jac=True, method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 10000})
    return r.x

rng = np.random.default_rng(7)
cases = []
for name, n, d, sep in [("overlap", 120, 5, 0.8), ("separable", 60, 3, 4.0), ("wide", 40, 30, 1.0)]:
    X = rng.normal(size=(n, d)).astype(np.float32)
    wt = rng.normal(size=d)
    z = sep * (X @ wt) + 0.3
    y = z + (rng.normal(size=n) * (0.0 if name == "separable" else 1.0)) > 0
    theta = solve(X.astype(np.float64), y, 1.0)
    cases.append({"name": name, "n": n, "d": d, "C": 1.0, "X": X.ravel().tolist(), "y": [bool(v) for v in y],
                  "w": theta[:d].tolist(), "b": float(theta[d])})
path = os.path.join(os.path.dirname(__file__), "..", "resources", "msts", "evals", "logreg_reference.json")
json.dump(cases, open(path, "w"))
print("wrote", path, [(c["name"], c["b"]) for c in cases])
