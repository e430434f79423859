"""Tests of logitdescent.persistence: exact round trips, validation, atomic writes."""

import json
import os
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from logitdescent import LogisticRegression, persistence
from logitdescent.persistence import (
    FORMAT_VERSION,
    ModelFileError,
    atomic_write_bytes,
    load_model,
    model_from_bytes,
    model_to_bytes,
    save_model,
)

RNG_SEED = 0


@pytest.fixture(scope="module")
def Xy():
    """A small, noisy binary problem (not separable, so every fit converges)."""
    rng = np.random.default_rng(RNG_SEED)
    X = rng.normal(size=(60, 3))
    y01 = (X @ [1.0, -2.0, 0.5] + rng.normal(scale=1.5, size=60) > 0).astype(int)
    return X, y01


def assert_predicts_identically(original, loaded, X):
    for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
        expected, actual = getattr(original, method)(X), getattr(loaded, method)(X)
        assert actual.dtype == expected.dtype, method
        if expected.dtype == object:  # labels; tobytes would compare pointers
            assert actual.tolist() == expected.tolist(), method
        else:  # bit for bit: tobytes also tells -0.0 from 0.0
            assert actual.tobytes() == expected.tobytes(), method
    np.testing.assert_array_equal(loaded.classes_, original.classes_)


LABELS = {
    "int": np.array([3, 7]),
    "str": np.array(["ham", "spam"]),
    "object str": np.array(["no", "yes"], dtype=object),
    "bool": np.array([False, True]),
    "float": np.array([-1.0, 2.0]),
}


@pytest.mark.parametrize("labels", LABELS.values(), ids=LABELS.keys())
def test_round_trip_predicts_bit_identically(tmp_path, Xy, labels):
    X, y01 = Xy
    model = LogisticRegression().fit(X, labels[y01])
    loaded = load_model(save_model(model, tmp_path / "model.json"))
    assert type(loaded) is LogisticRegression
    assert_predicts_identically(model, loaded, X)
    assert loaded.classes_.dtype == model.classes_.dtype
    for attribute in ("coef_", "intercept_", "loss_curve_"):
        assert getattr(loaded, attribute).tobytes() == getattr(model, attribute).tobytes()
    assert (loaded.n_iter_, loaded.solver_, loaded.converged_, loaded.n_features_in_) == (
        model.n_iter_, model.solver_, model.converged_, model.n_features_in_)


def test_float32_model_stays_float32(tmp_path, Xy):
    X, y01 = Xy
    X32 = X.astype(np.float32)
    # float32 gradients are only accurate to about 1e-7 relative, so a looser tol.
    model = LogisticRegression(tol=1e-4).fit(X32, y01)
    assert model.coef_.dtype == np.float32
    loaded = load_model(save_model(model, tmp_path / "m.json"))
    assert loaded.coef_.dtype == np.float32 and loaded.intercept_.dtype == np.float32
    assert_predicts_identically(model, loaded, X32)


def test_pipeline_with_feature_names_round_trips(tmp_path, Xy):
    X, y01 = Xy
    frame = pd.DataFrame(X * [1.0, 100.0, 0.01] + 5.0, columns=["alpha", "beta", "gamma"])
    pipeline = Pipeline([("scaler", StandardScaler()), ("classifier", LogisticRegression())]).fit(frame, y01)
    loaded = load_model(save_model(pipeline, tmp_path / "p.json"))
    assert isinstance(loaded, Pipeline)
    assert [name for name, _ in loaded.steps] == ["scaler", "classifier"]
    np.testing.assert_array_equal(loaded.feature_names_in_, ["alpha", "beta", "gamma"])
    for attribute in ("mean_", "var_", "scale_"):
        assert getattr(loaded[0], attribute).tobytes() == getattr(pipeline[0], attribute).tobytes()
    assert loaded[0].n_samples_seen_ == pipeline[0].n_samples_seen_
    assert_predicts_identically(pipeline, loaded, frame)


def test_parameters_round_trip_with_exact_types(tmp_path, Xy):
    X, y01 = Xy
    model = LogisticRegression(
        C=np.inf, l1_ratio=0.25, solver="gd", learning_rate=0.5, max_iter=40, tol=0.0,
        class_weight={0: 1.0, 1: 2.5}, fit_intercept=False, random_state=3,
    ).fit(X, y01)
    loaded = load_model(save_model(model, tmp_path / "m.json"))
    params, expected = loaded.get_params(), model.get_params()
    assert params == expected
    assert {k: type(v) for k, v in params.items()} == {k: type(v) for k, v in expected.items()}
    assert loaded.C == np.inf


def test_file_is_standard_json_with_header_and_checksum(tmp_path, Xy):
    X, y01 = Xy
    path = save_model(LogisticRegression(C=np.inf).fit(X, y01), tmp_path / "m.json")

    def reject(constant):
        raise AssertionError(f"non-standard JSON constant {constant}")

    document = json.loads(path.read_text(), parse_constant=reject)
    assert document["format"] == "logitdescent-model"
    assert document["format_version"] == FORMAT_VERSION
    assert isinstance(document["logitdescent_version"], str)
    assert len(document["sha256"]) == 64
    classifier = document["model"]["classifier"]
    assert classifier["params"]["C"] == {"float": "inf"}
    assert set(classifier) == {"params", "state"}
    assert set(classifier["state"]) == set(LogisticRegression().fit(X, y01).get_fitted_state())


def test_non_finite_array_values_round_trip():
    # The format's escape for NaN and inf inside float arrays, end to end.
    array = np.array([np.nan, np.inf, -np.inf, -0.0, 1e-310], dtype=np.float64)
    encoded = persistence._encode_array(array, "a")
    assert encoded["values"][:3] == ["nan", "inf", "-inf"]
    decoded = persistence._decode_array(json.loads(json.dumps(encoded)), "a", kinds="f", ndim=1)
    assert decoded.tobytes() == array.tobytes()


# -- more than two classes, penalties, bounds ------------------------------


@pytest.fixture(scope="module")
def iris():
    """Iris, standardized, with its species names as labels."""
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])
    return StandardScaler().fit_transform(X), names[y]


def round_trip(model, tmp_path):
    return load_model(save_model(model, tmp_path / "model.json"))


def assert_same_fit(original, loaded):
    """Every fitted attribute, bit for bit, with its type and dtype."""
    for attribute in ("coef_", "intercept_"):
        expected, actual = getattr(original, attribute), getattr(loaded, attribute)
        assert actual.dtype == expected.dtype and actual.shape == expected.shape
        assert actual.tobytes() == expected.tobytes(), attribute
    assert loaded.classes_.dtype == original.classes_.dtype
    assert loaded.classes_.tolist() == original.classes_.tolist()
    assert loaded.loss_curve_.tobytes() == original.loss_curve_.tobytes()
    assert (loaded.n_iter_, loaded.solver_, loaded.converged_, loaded.n_features_in_) == (
        original.n_iter_, original.solver_, original.converged_, original.n_features_in_)
    assert_params_identical(loaded.get_params(), original.get_params())


def assert_params_identical(actual, expected):
    """Equal values of equal types, recursing into tuples, lists, dicts and arrays."""
    assert type(actual) is type(expected), (actual, expected)
    if isinstance(expected, np.ndarray):
        assert actual.dtype == expected.dtype and actual.shape == expected.shape
        assert actual.tobytes() == expected.tobytes()
    elif isinstance(expected, (tuple, list)):
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected):
            assert_params_identical(a, e)
    elif isinstance(expected, dict):
        assert list(actual) == list(expected)
        for key in expected:
            assert_params_identical(actual[key], expected[key])
    else:
        assert actual == expected or (actual != actual and expected != expected)  # NaN


def test_multinomial_round_trip(tmp_path, iris):
    X, y = iris
    model = LogisticRegression().fit(X, y)
    assert model.coef_.shape == (3, 4)
    loaded = round_trip(model, tmp_path)
    assert_same_fit(model, loaded)
    assert_predicts_identically(model, loaded, X)


def test_l1_model_keeps_its_exact_zeros(tmp_path, iris):
    X, y = iris
    model = LogisticRegression(l1_ratio=1.0, C=0.05).fit(X, y)
    zeros = model.coef_ == 0
    assert zeros.any() and not zeros.all()
    loaded = round_trip(model, tmp_path)
    np.testing.assert_array_equal(loaded.coef_ == 0, zeros)
    assert_same_fit(model, loaded)  # tobytes: -0.0 stays -0.0
    assert_predicts_identically(model, loaded, X)


def test_elastic_net_round_trip(tmp_path, iris):
    X, y = iris
    model = LogisticRegression(l1_ratio=0.3, C=0.2).fit(X, y)
    loaded = round_trip(model, tmp_path)
    assert (loaded.penalty, loaded.l1_ratio, loaded.C) == ("deprecated", 0.3, 0.2)
    assert_same_fit(model, loaded)
    assert_predicts_identically(model, loaded, X)


BOUNDS = {
    "scalars with inf": (-0.5, np.inf),
    "None and a scalar": (None, 0.25),
    "list of ints": [0, 1],
    "per-feature arrays": (np.array([-1.0, 0.0, -1.0, 0.0]), None),
    "per-class array": (np.full((3, 4), -0.75), np.array([1.0, 1.0, np.inf, 0.5])),
}


@pytest.mark.parametrize("bounds", BOUNDS.values(), ids=BOUNDS.keys())
def test_bounded_model_round_trips(tmp_path, iris, bounds):
    X, y = iris
    model = LogisticRegression(coef_bounds=bounds).fit(X, y)
    loaded = round_trip(model, tmp_path)
    assert_params_identical(loaded.coef_bounds, bounds)
    assert_same_fit(model, loaded)
    assert_predicts_identically(model, loaded, X)
    # The bounds still constrain a refit of the loaded model.
    refit = loaded.fit(X, y)
    assert refit.coef_.tobytes() == model.coef_.tobytes()


def test_float32_multiclass_stays_float32(tmp_path, iris):
    X, y = iris
    X32 = X.astype(np.float32)
    model = LogisticRegression(tol=1e-4).fit(X32, y)
    loaded = round_trip(model, tmp_path)
    assert loaded.coef_.dtype == np.float32 and loaded.intercept_.dtype == np.float32
    assert_same_fit(model, loaded)
    assert_predicts_identically(model, loaded, X32)


MULTICLASS_LABELS = {
    "int": np.array([10, 20, 30]),
    "negative int8": np.array([-3, 0, 5], dtype=np.int8),
    "float": np.array([-1.0, 0.0, 2.0]),
    "uint16": np.array([1, 2, 60000], dtype=np.uint16),
    "object str": np.array(["a", "bb", "ccc"], dtype=object),
    "unicode": np.array(["λ", "µ", "日本"]),
}


@pytest.mark.parametrize("labels", MULTICLASS_LABELS.values(), ids=MULTICLASS_LABELS.keys())
def test_multiclass_labels_keep_their_type(tmp_path, iris, labels):
    X, y = iris
    codes = np.searchsorted(np.unique(y), y)
    model = LogisticRegression(max_iter=50, tol=1e-4).fit(X, labels[codes])
    loaded = round_trip(model, tmp_path)
    assert loaded.classes_.dtype == model.classes_.dtype
    assert_predicts_identically(model, loaded, X)


def test_partial_fit_state_round_trips(tmp_path, iris):
    """A loaded model continues a stream exactly as the saved one would have."""
    X, y = iris
    batches = [slice(k, None, 3) for k in range(3)]
    for model in (
        LogisticRegression(random_state=0),  # only ever partial_fit
        LogisticRegression(random_state=1).fit(X, y),  # fit, then partial_fit
    ):
        if not hasattr(model, "classes_"):
            model.partial_fit(X[batches[0]], y[batches[0]], classes=np.unique(y))
        model.partial_fit(X[batches[1]], y[batches[1]])
        loaded = round_trip(model, tmp_path)
        assert loaded.n_iter_ == model.n_iter_
        assert_predicts_identically(model, loaded, X)
        for m in (model, loaded):
            m.partial_fit(X[batches[2]], y[batches[2]])
        assert loaded.coef_.tobytes() == model.coef_.tobytes()
        assert loaded.intercept_.tobytes() == model.intercept_.tobytes()


def test_loaded_model_warm_starts_from_its_coefficients(tmp_path, iris):
    X, y = iris
    model = LogisticRegression(warm_start=True).fit(X, y)
    loaded = round_trip(model, tmp_path)
    loaded.set_params(max_iter=0, tol=0.0).fit(X, y)  # zero steps from the warm start
    assert loaded.coef_.tobytes() == model.coef_.tobytes()


# A version-1 file as logitdescent 0.1 wrote it (binary, before multiclass and
# coef_bounds): a pipeline of 2 features, string labels, C=inf and a dict of
# class weights. PROBA_V1 is what that version predicted on X_V1.
MODEL_V1 = (
    '{"format":"logitdescent-model","format_version":1,"logitdescent_version":"0.1.0","model":{"classifier":'
    '{"classes":{"dtype":"<U3","shape":[2],"values":["no","yes"]},"coef":{"dtype":"<f8","shape":[1,2],"values"'
    ':[0.4503642534857946,-1.8937542022854181]},"converged":false,"feature_names_in":null,"intercept":{"dtype":'
    '"<f8","shape":[1],"values":[-0.46624458368343674]},"loss_curve":{"dtype":"<f8","shape":[4],"values":'
    '[0.6931471805599453,0.3354776134097171,0.2597357577419326,0.22203691682066892]},"n_features_in":2,'
    '"n_iter":3,"params":{"C":{"float":"inf"},"batch_size":256,"class_weight":{"dict":[["no",2.0],["yes",1.0]]}'
    ',"fit_intercept":true,"learning_rate":"auto","max_iter":3,"penalty":null,"random_state":null,"solver":'
    '"gd","tol":0.0,"verbose":0,"warm_start":false},"solver":"gd"},"kind":"Pipeline","scaler":'
    '{"feature_names_in":{"dtype":"|O","shape":[2],"values":["a","b"]},"mean":{"dtype":"<f8","shape":[2],'
    '"values":[2.5,0.9166666666666666]},"n_features_in":2,"n_samples_seen":{"dtype":"<f8","shape":[],"values":'
    '[6.0]},"params":{"copy":true,"with_mean":true,"with_std":true},"scale":{"dtype":"<f8","shape":[2],"values":'
    '[1.707825127659933,1.3043729868748775]},"var":{"dtype":"<f8","shape":[2],"values":[2.9166666666666665,'
    '1.701388888888889]}}},"sha256":"cff24b370f74bdecbf9f35885d16a231c441ea113f75889e9107e5e33f6a4c92"}'
)
X_V1 = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "b": [1.0, 0.5, 2.0, -1.0, 0.0, 3.0]})
PROBA_V1 = [0.2233069641288218, 0.43613415939673555, 0.10239102515335695, 0.9204386173589896,
            0.7790566741318113, 0.05563675869611529]


def test_version_1_files_still_load(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(MODEL_V1)
    model = load_model(path)
    classifier = model.named_steps["classifier"]
    # The parameters version 1 had, penalty=None as today's C=inf, the defaults for the rest.
    assert classifier.get_params() == LogisticRegression(
        C=np.inf, solver="gd", max_iter=3, tol=0.0, class_weight={"no": 2.0, "yes": 1.0},
    ).get_params()
    assert (classifier.penalty, classifier.l1_ratio, classifier.coef_bounds) == ("deprecated", 0.0, None)
    assert classifier.coef_.tolist() == [[0.4503642534857946, -1.8937542022854181]]
    assert classifier.classes_.tolist() == ["no", "yes"] and classifier.n_iter_ == 3
    np.testing.assert_allclose(model.predict_proba(X_V1)[:, 1], PROBA_V1, rtol=1e-14)
    # Saved again, it is a current file that round trips exactly.
    again = save_model(model, tmp_path / "new.json")
    assert json.loads(again.read_text())["format_version"] == FORMAT_VERSION == 3
    assert_predicts_identically(model, load_model(again), X_V1)


def test_version_1_files_cannot_hold_version_2_keys(tmp_path):
    document = json.loads(MODEL_V1)
    document["model"]["classifier"]["partial_fit"] = None
    document["sha256"] = persistence._checksum(document)
    with pytest.raises(ModelFileError, match="unexpected keys \\['partial_fit'\\]"):
        model_from_bytes(json.dumps(document).encode())


# Version-2 files as logitdescent wrote them before the estimator took
# scikit-learn 1.9's parameters (penalty then chose the penalty and l1_ratio
# defaulted to 0.5) and before one-vs-rest moved to OneVsRestClassifier: a
# 3-class elastic-net fit, a model trained only by partial_fit (its schedule
# and generator state), and a one-vs-rest fit. PROBA_* is what that version
# predicted on XT_V2; PARTIAL_V2_NEXT the coefficients after one more
# partial_fit(X_V2, Y_V2).
X_V2 = np.array([[1.76, 0.4], [0.98, 2.24], [1.87, -0.98], [0.95, -0.15], [-0.1, 0.41], [0.14, 1.45], [0.76, 0.12], [0.44, 0.33], [1.49, -0.21], [0.31, -0.85], [-2.55, 0.65], [0.86, -0.74]])
Y_V2 = np.array([0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1])
XT_V2 = np.array([[1.23, 1.2], [-0.39, -0.3], [-1.05, -1.42]])
MULTINOMIAL_V2 = (
    '{"format":"logitdescent-model","format_version":2,"logitdescent_version":"0.1.0","model":{"classifier":{"class'
    'es":{"dtype":"<U1","shape":[3],"values":["a","b","c"]},"coef":{"dtype":"<f8","shape":[3,2],"values":[0.1607699'
    '0464937513,-0.18249888985207507,-0.46208097921301516,0.4171323705518878,0.24448310812586282,-0.177805514262035'
    '28]},"converged":false,"feature_names_in":null,"intercept":{"dtype":"<f8","shape":[3],"values":[-0.00735670548'
    '2069551,0.03972122039528268,-0.032364514913213044]},"loss_curve":{"dtype":"<f8","shape":[4],"values":[1.098612'
    '2886681096,0.9777058778898251,0.9358351922337715,0.9169614403288537]},"n_features_in":2,"n_iter":3,"params":{"'
    'C":2.0,"batch_size":256,"class_weight":null,"coef_bounds":null,"fit_intercept":true,"l1_ratio":0.5,"learning_r'
    'ate":"auto","max_iter":3,"multiclass":"multinomial","penalty":"elasticnet","random_state":null,"solver":"gd","'
    'tol":0,"verbose":0,"warm_start":false},"partial_fit":null,"solver":"gd"},"kind":"LogisticRegression"},"sha256"'
    ':"d764cb85b77a1c10512403a60b90d9d9bd3d85ab465dee452052ead16c8f0dc1"}'
)
PROBA_MULTINOMIAL_V2 = [[0.323864227834826, 0.3240355491217771, 0.35210022304339694], [0.3269003050816268, 0.36494827800621654, 0.30815141691215664], [0.3639460221126433, 0.3131243919310451, 0.32292958595631155]]
PARTIAL_V2 = (
    '{"format":"logitdescent-model","format_version":2,"logitdescent_version":"0.1.0","model":{"classifier":{"class'
    'es":{"dtype":"<i8","shape":[2],"values":[0,1]},"coef":{"dtype":"<f8","shape":[1,2],"values":[0.777197742678556'
    '1,0.3012471789575727]},"converged":null,"feature_names_in":null,"intercept":{"dtype":"<f8","shape":[1],"values'
    '":[0.5236891337679966]},"loss_curve":null,"n_features_in":2,"n_iter":2,"params":{"C":1.0,"batch_size":4,"class'
    '_weight":null,"coef_bounds":null,"fit_intercept":true,"l1_ratio":0.5,"learning_rate":"auto","max_iter":1000,"m'
    'ulticlass":"multinomial","penalty":"l2","random_state":0,"solver":"auto","tol":1e-06,"verbose":0,"warm_start":'
    'false},"partial_fit":{"alpha0":[1.1411267125192923],"calls":2,"rng":{"bit_generator":"MT19937","cached_gaussia'
    'n":0.0,"has_gauss":0,"key":{"dtype":"<u4","shape":[624],"values":[2443250962,1093594115,1878467924,2709361018,'
    '1101979660,3904844661,676747479,2085143622,1056793272,3812477442,2168787041,275552121,2696932952,3432054210,16'
    '57102335,3518946594,962584079,1051271004,3806145045,1414436097,2032348584,1661738718,1116708477,2562755208,317'
    '6189976,696824676,2399811678,3992505346,569184356,2626558620,136797809,4273176064,296167901,3430730584,3319098'
    '03,1908676996,1950065095,604298543,3615988338,1570232852,1028209748,1511467721,2411887154,4210753555,309676272'
    '0,423429618,659966766,2937509307,2222847265,378636552,1142109618,2509241601,1521729757,888533219,250885260,245'
    '5816244,4046047811,1947467789,1395351953,2388948566,934627940,194642258,1429256273,2139959677,1543740405,15696'
    '13451,4061840539,2075690423,824532376,844152077,3218002536,897315311,823414659,1007534698,3139313867,233279446'
    '2,3675156583,722594429,3715123011,2656840676,2373277715,1516144243,1538161999,1399719297,1448820876,3180842436'
    ',2020192709,3279498509,1048107540,3094290376,3706920703,3810051683,4003871775,1069557309,151535004,667695756,8'
    '61767313,1643171871,3649507728,3785763588,737899497,2332908276,4082123854,1584539673,3929877280,1046086041,130'
    '4062606,2311324008,1190424879,538647603,1728806718,148948582,659721465,2351006009,185647941,1825934330,2126619'
    '619,2230539295,3878421575,965937340,2835563987,419858879,1527311104,2042333483,2745134265,3540517373,110006216'
    '5,2308613697,2690739856,2048293545,2742876486,2408502115,53398423,3089771461,1398529613,2132477261,504134301,1'
    '535108421,1968507173,3412472770,4048517196,3509143071,857063211,1429875570,4120479871,2786574360,2470799871,16'
    '44104875,2326863162,2033900387,274888909,2629973384,1154405937,1839988197,2163830694,268733679,2928953965,3871'
    '53042,3790900490,3202349717,3799209681,2524871464,3801447311,3543081470,1801633977,3870370950,1581678156,35828'
    '3485,4133385582,4052311650,249498956,1712028623,3618329357,3395106946,2704820515,26653208,2437509555,419218637'
    '1,3639946838,2615917799,294624699,463886267,2477203673,2514051526,4162882381,2937629358,3180524454,1388392394,'
    '2637132139,1999482082,1870663339,2852309250,3489430700,1116063402,1673637188,1941955790,4081919937,2322920953,'
    '3500518887,2722575905,405031829,3728964889,3464559963,665516555,1626835870,2523729468,238289561,497556937,2581'
    '429740,3456619478,2601389837,820426192,268141532,2654829421,349692193,2426957585,1465734488,85095426,108089553'
    '6,2823366942,379322515,2938986739,1561328720,2940081697,607513620,2724557130,2841377034,14123440,1085631349,19'
    '77859413,1325586902,1690398943,2516154740,4144373551,555899232,1472707937,3318086852,719779833,3545481907,1384'
    '350857,191709822,2924586997,3905397527,2528674757,2377804096,2742818576,4162971050,1916415976,2229076768,13270'
    '6400,1337415646,251604474,4168783505,819499074,1213291699,2098930479,1009044052,1060792037,2169940733,29732810'
    '31,636656529,1946890813,367099469,4076624283,338339529,561343735,3309733580,3895891229,516195845,3075613489,30'
    '76388119,4088758753,3895582245,1192445752,2923797073,2272605437,2964193665,943979628,3263904824,1852145108,191'
    '1050628,1596880711,479795791,212699077,2172697748,1764175804,3951845064,2182587171,2396848133,2718837214,29341'
    '77572,3638054152,914795167,1028977354,1744985339,1161407853,2069746822,3109934340,3666150054,729399111,2911998'
    '815,152809615,417267263,1064343325,2751707923,1833270972,886939906,4054231201,1410366452,976142646,1452795786,'
    '1904234879,4231894541,1505392175,3498767279,833704604,2100592828,688268099,1752675602,1975556664,2102210733,69'
    '8665709,1232104968,4051336323,1740516649,3131721670,3755143232,3433756601,138325540,1566724819,3146312914,3262'
    '098346,1400757929,3821885720,356740291,4236900846,3962771215,3383537419,3432281817,3700484231,1124512300,40401'
    '03150,2152814065,357241942,3507144572,3156778000,4029389048,1495464238,2710816120,618937484,923913256,32331614'
    '11,3113338135,2380534800,2989134055,792458413,2073679910,2733527896,1078384210,2832175364,501385130,1554930792'
    ',2339252603,535487294,2983664186,924228889,2127502206,2847205678,836935943,1902192892,4094716961,3296730761,23'
    '07406435,281523156,728701372,3943302480,183005637,2660706047,2320033913,2011717602,219970222,890345073,2479236'
    '311,653839655,38538414,3266308455,3726363269,1256762826,712114913,3499059198,2847394904,3246075282,1299462737,'
    '830090526,369065487,3899451086,1825910875,2697294244,2553197317,2501134241,930821716,2841281141,3920808923,320'
    '9045349,3381621736,2145077949,1958091404,371971179,3064957112,3151429184,2833651995,1089438243,2146134351,1426'
    '568997,3528669710,1043897757,3052263589,3205925012,4076215371,2622476950,2385717100,2179892838,3820135605,1574'
    '628644,177604240,1712062317,1192081671,1107476027,837376039,2818244460,1382379731,2749207910,2644203474,150886'
    '0349,3006844699,3157252375,3789683778,1985542020,2309789126,1624089624,3660683301,1432444043,1172735898,327158'
    '7635,841387671,3614623669,3002115850,1078807738,1095345284,1707086713,4263485053,445506874,3148772337,27169174'
    '08,3836812085,1026228926,491069724,3983218285,2410582206,3821759029,3789305873,1223256738,1677180485,148177173'
    '3,1670286271,2852111711,1628943665,2289772949,3483580787,2129860019,3955695109,28974017,2289227173,1725243773,'
    '483357125,111587742,347631238,1805029491,839978009,339030914,2442782449,1701726526,1481742442,3703534067,37961'
    '47861,235078546,3195450129,1420184214,998981944,163541155,2087693215,3827554748,3003331872,1967967170,16019091'
    '7,544473278,3884602428,4180513186,1603446876,2191744556,1938251010,291242497,1764195107,4076051069,3860380798,'
    '806452940,2631256196,949838208,4096577802,1519225265,2296800559,1015848400,2864792481,88004533,195132439,96691'
    '8321,1451347413,2322994051,3585658769,1771598947,3308395968,950148946,3846061568,564475171,1345892193,24395810'
    '32,2907206869,1297626422,3779454571,818255727,705738065,3915384184,4133726754,2724859327,3773743817,326325901,'
    '2766390048,2562130418,1885210076,2622324981,1727396790,1742653294,3133131942,3790857080,197042473,2868410679,1'
    '122976862,2264474389,3607393378,744386048,3122128592,1101489146,4064675687,2818166901,2282076661,370818870,305'
    '3423257,2272652338,4077081984,4284213290,1728304803,3902867896,1643530236,306212760,144705843,498541197,310326'
    '9575,4116304893,1646288275,2110757680,4092919505,3390929578,1828116798,1847914177,1156754878,2985404552,397088'
    '1126,3035874635,2189824678,2637114092,2588332748,3917818803,3302695646,1758418726,1934759438,3871576937,136076'
    '9189,1051808374,1881390541,757367126,3253778407,1685049720,805311189,934898036,95682794,2052240235,3475933669,'
    '2213474191,3341273357,2443286051,4272536794,696819230,878775027,3332634155,3405126958,2824772573,95284505,3040'
    '640920,2412859827,2959515765,1764792340,1504924482,2116910326,2293943003,3199262907,1443740894,3900566588,3430'
    '66614,1927475335,249220892,2920636502,3593328327,2648828502,1678096082]},"pos":29}},"solver":null},"kind":"Log'
    'isticRegression"},"sha256":"a644ea753fc6e42fbdeb8294c2a984253b8c557127ed3eff001b3488a4cd7937"}'
)
PROBA_PARTIAL_V2 = [[0.13691664404173415, 0.8630833559582659], [0.4674939477885776, 0.5325060522114223], [0.6726377330133256, 0.3273622669866745]]
OVR_V2 = (
    '{"format":"logitdescent-model","format_version":2,"logitdescent_version":"0.1.0","model":{"classifier":{"class'
    'es":{"dtype":"<U1","shape":[3],"values":["a","b","c"]},"coef":{"dtype":"<f8","shape":[3,2],"values":[0.1046820'
    '2161508447,-0.35112165298055936,-0.7664934235405365,0.48359518619478936,0.20353594576229575,-0.346599534370503'
    '2]},"converged":false,"feature_names_in":null,"intercept":{"dtype":"<f8","shape":[3],"values":[-0.424033178051'
    '90965,-0.33268344224131113,-0.4427412646087612]},"loss_curve":[{"dtype":"<f8","shape":[3],"values":[0.69314718'
    '05599452,0.6301099079427172,0.6117570500211257]},{"dtype":"<f8","shape":[3],"values":[0.6931471805599452,0.477'
    '303947163008,0.4540389913665258]},{"dtype":"<f8","shape":[3],"values":[0.6931471805599452,0.6226646293668827,0'
    '.6000489203318221]}],"n_features_in":2,"n_iter":2,"params":{"C":1.0,"batch_size":256,"class_weight":null,"coef'
    '_bounds":null,"fit_intercept":true,"l1_ratio":0.5,"learning_rate":"auto","max_iter":2,"multiclass":"ovr","pena'
    'lty":"l2","random_state":null,"solver":"gd","tol":0,"verbose":0,"warm_start":false},"partial_fit":null,"solver'
    '":"gd"},"kind":"LogisticRegression"},"sha256":"cf09dcf9aa876a65e602712dc92b774f984f1cf3fc36f3d929392e0e645ecc8'
    '6"}'
)
PROBA_OVR_V2 = [[0.32377665224447955, 0.3284629266544083, 0.3477604211011122], [0.3253596650621454, 0.3604511330212061, 0.31418920191664845], [0.3516473046508171, 0.3197162599071398, 0.328636435442043]]
PARTIAL_V2_NEXT = ([[0.6309076360798826, 0.3581724064122792]], [0.5877664101229727])


def test_version_2_multinomial_loads_with_todays_parameters():
    model = model_from_bytes(MULTINOMIAL_V2.encode())
    assert (model.penalty, model.C, model.l1_ratio) == ("deprecated", 2.0, 0.5)  # penalty="elasticnet"
    np.testing.assert_array_equal(model.predict_proba(XT_V2), PROBA_MULTINOMIAL_V2)
    assert model.loss_curve_.shape == (4,) and model.solver_ == "gd" and not model.converged_


def test_version_2_partial_fit_continues_the_stream_exactly():
    model = model_from_bytes(PARTIAL_V2.encode())
    # penalty="l2" with the old l1_ratio default 0.5: the L2 penalty it fitted.
    assert (model.penalty, model.C, model.l1_ratio, model.n_iter_) == ("deprecated", 1.0, 0.0, 2)
    np.testing.assert_array_equal(model.predict_proba(XT_V2), PROBA_PARTIAL_V2)
    model.partial_fit(X_V2, Y_V2)
    coef, intercept = PARTIAL_V2_NEXT
    np.testing.assert_array_equal(model.coef_, coef)
    np.testing.assert_array_equal(model.intercept_, intercept)


def test_version_2_one_vs_rest_is_refused_with_the_way_out():
    with pytest.raises(ModelFileError, match=r"format version 2 holds a one-vs-rest model .*OneVsRestClassifier"):
        model_from_bytes(OVR_V2.encode())


def test_parameter_encoding_is_tagged_and_exact():
    values = {
        "tuple": (1, None, -np.inf), "list": [0.5, "a"], "nested": ((1.5, [True]),),
        "array": np.array([[1.0, -0.0], [np.nan, np.inf]], dtype=np.float32),
        "int array": np.arange(3, dtype=np.uint8), "0-d array": np.array(2.5),
        "dict": {1: (2, 3), "k": None},
    }
    for name, value in values.items():
        encoded = json.loads(json.dumps(persistence._encode_param(value, name), allow_nan=False))
        assert_params_identical(persistence._decode_param(encoded, name), value)
    assert persistence._encode_param((0, np.inf), "b") == {"tuple": [0, {"float": "inf"}]}
    # NumPy scalars are stored as the Python values they equal.
    assert persistence._encode_param((np.float64(1.5), np.int64(2), np.str_("x")), "c") == {"tuple": [1.5, 2, "x"]}


# -- rejecting bad files ---------------------------------------------------


@pytest.fixture
def saved(tmp_path, Xy):
    X, y01 = Xy
    return save_model(LogisticRegression().fit(X, y01), tmp_path / "model.json")


def rewrite(path, edit, *, fix_checksum):
    """Apply ``edit`` to the parsed file; optionally recompute the checksum (a forger)."""
    document = json.loads(path.read_text())
    edit(document)
    if fix_checksum:
        document["sha256"] = persistence._checksum(document)
    path.write_text(json.dumps(document))


def test_tampered_value_fails_the_checksum(saved):
    def double_first_weight(document):
        document["model"]["classifier"]["state"]["coef"]["array"]["values"][0] *= 2

    rewrite(saved, double_first_weight, fix_checksum=False)
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        load_model(saved)


def test_flipped_byte_is_detected(saved):
    data = bytearray(saved.read_bytes())
    position = data.index(b'"n_iter": ') + len(b'"n_iter": ')
    data[position] = ord("9") if data[position] != ord("9") else ord("8")
    saved.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        load_model(saved)


def test_foreign_json_is_rejected(tmp_path):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"format": "something-else", "weights": [1, 2]}))
    with pytest.raises(ModelFileError, match="not a logitdescent model file"):
        load_model(path)


def test_newer_format_version_asks_for_an_upgrade(saved):
    rewrite(saved, lambda d: d.update(format_version=FORMAT_VERSION + 1), fix_checksum=True)
    with pytest.raises(ModelFileError, match="newer .* upgrade logitdescent"):
        load_model(saved)


@pytest.mark.parametrize("version", [0, "1", True, None, 1.0])
def test_invalid_format_version_is_rejected(saved, version):
    rewrite(saved, lambda d: d.update(format_version=version), fix_checksum=True)
    with pytest.raises(ModelFileError, match="format_version"):
        load_model(saved)


class _Exploit:
    """Unpickling this runs ``os.system``: what a pickle-based format allows."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("protocol", [0, pickle.HIGHEST_PROTOCOL])
def test_pickle_payload_is_rejected_without_running_it(tmp_path, protocol):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.json"
    path.write_bytes(pickle.dumps(_Exploit(marker), protocol=protocol))
    with pytest.raises(ModelFileError, match="not a logitdescent model file"):
        load_model(path)
    assert not marker.exists()


def _set(keys, value):
    def edit(document):
        node = document["model"]
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return edit


def _state(key, value):
    """Set one entry of the stored state, as JSON."""
    return _set(["classifier", "state", key], value)


def _edit_entry(document, key, edit):
    """Edit one stored state entry as Python data, then store it again."""
    state = document["model"]["classifier"]["state"]
    value = persistence._decode_param(state[key], key)
    edit(value)
    state[key] = persistence._encode_param(value, key)


def _array(dtype, shape, values):
    return {"array": {"dtype": dtype, "shape": shape, "values": values}}


# Files a forger could write (valid checksum): each must still be refused.
FORGED = {
    "coef shape": _set(["classifier", "state", "coef", "array", "shape"], [1, 2]),
    "values count": _set(["classifier", "state", "coef", "array", "values"], [0.5]),
    "object dtype with non-strings": _state("classes", _array("|O", [2], [1, 2])),
    "structured dtype": _set(["classifier", "state", "classes", "array", "dtype"], "|V8"),
    "one class": _state("classes", _array("<i8", [2], [1, 1])),
    "int out of range": _state("classes", _array("|i1", [2], [0, 300])),
    "bool as count": _state("n_iter", True),
    "loss curve length": _state("n_iter", 999),
    "bad parameter": _set(["classifier", "params", "C"], -1.0),
    "contradicting penalty": lambda d: d["model"]["classifier"]["params"].update(penalty="l2", l1_ratio=1.0),
    "unknown parameter": _set(["classifier", "params", "exec"], "print('hi')"),
    "old multiclass parameter": _set(["classifier", "params", "multiclass"], "ovr"),
    "unknown kind": _set(["kind"], "RandomForest"),
    "extra key": _set(["classifier", "code"], "import os"),
    "extra state key": _state("code", "import os"),
    "missing state key": lambda d: d["model"]["classifier"]["state"].pop("partial_fit"),
    "state not an object": _set(["classifier", "state"], [1, 2]),
    "string for float": _set(["classifier", "state", "intercept", "array", "values"], ["0.1"]),
    "list for float": _set(["classifier", "state", "intercept", "array", "values"], [[0.1]]),
    "int coef": _state("coef", _array("<i8", [1, 3], [1, 2, 3])),
    "no fit and no partial_fit": _state("fit", None),
    "fit not a dict": _state("fit", {"list": [1]}),
    "unknown solver": lambda d: _edit_entry(d, "fit", lambda fit: fit.update(solver="magic")),
    "converged not a bool": lambda d: _edit_entry(d, "fit", lambda fit: fit.update(converged=1)),
    "unknown parameter tag": _set(["classifier", "params", "coef_bounds"], {"set": [0, 1]}),
    "two tags": _set(["classifier", "params", "coef_bounds"], {"tuple": [0, 1], "list": [0, 1]}),
    "bounds of a bad shape": _set(["classifier", "params", "coef_bounds"],
                                  {"tuple": [_array("<f8", [2], [0.0, 1.0]), None]}),
    "bounds reversed": _set(["classifier", "params", "coef_bounds"], {"tuple": [1.0, -1.0]}),
    "bounds not a pair": _set(["classifier", "params", "coef_bounds"], {"tuple": [1.0]}),
    "bounds of strings": _set(["classifier", "params", "coef_bounds"], {"tuple": [_array("<U1", [], ["a"]), None]}),
    "three classes, one coef row": _state("classes", _array("<i8", [3], [0, 1, 2])),
    "duplicate of three": _state("classes", _array("<i8", [3], [0, 1, 1])),
}


@pytest.mark.parametrize("edit", FORGED.values(), ids=FORGED.keys())
def test_forged_content_is_rejected(saved, edit):
    rewrite(saved, edit, fix_checksum=True)
    with pytest.raises(ModelFileError):
        load_model(saved)


def _edit_schedule(edit):
    return lambda document: _edit_entry(document, "partial_fit", edit)


def _set_rng(*keys, value):
    def edit(schedule):
        node = schedule["rng"]
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return _edit_schedule(edit)


# Forged partial_fit states: NumPy would index the generator's key with pos unchecked.
FORGED_PARTIAL_FIT = {
    "pos past the key": _set_rng("state", "pos", value=625),
    "negative pos": _set_rng("state", "pos", value=-1),
    "huge pos": _set_rng("state", "pos", value=10**30),
    "has_gauss not 0/1": _set_rng("has_gauss", value=7),
    "short key": _set_rng("state", "key", value=np.array([1, 2], dtype=np.uint32)),
    "signed key": _set_rng("state", "key", value=np.ones(624, dtype=np.int32)),
    "other generator": _set_rng("bit_generator", value="PCG64"),
    "calls not n_iter": _edit_schedule(lambda schedule: schedule.update(calls=99)),
    "alpha0 a list": _edit_schedule(lambda schedule: schedule.update(alpha0=[0.1, 0.2])),
    "alpha0 not a float": _edit_schedule(lambda schedule: schedule.update(alpha0="fast")),
    "alpha0 infinite": _edit_schedule(lambda schedule: schedule.update(alpha0=np.inf)),
}


@pytest.mark.parametrize("edit", FORGED_PARTIAL_FIT.values(), ids=FORGED_PARTIAL_FIT.keys())
def test_forged_partial_fit_state_is_rejected(tmp_path, Xy, edit):
    X, y01 = Xy
    path = save_model(LogisticRegression(random_state=0).partial_fit(X, y01, classes=[0, 1]), tmp_path / "m.json")
    load_model(path)  # the genuine file loads
    rewrite(path, edit, fix_checksum=True)
    with pytest.raises(ModelFileError, match="partial_fit"):
        load_model(path)


@pytest.mark.parametrize("content", [b"", b"\x80\x04binary", b"[1, 2]", b'{"a": NaN}', b'{"a": 1, "a": 2}', b"{" * 100000])
def test_malformed_json_is_rejected(content):
    with pytest.raises(ModelFileError):
        model_from_bytes(content)


def test_error_message_names_the_file(saved):
    saved.write_text("{}")
    with pytest.raises(ModelFileError, match="model.json"):
        load_model(saved)


def test_only_supported_models_can_be_saved(Xy, tmp_path):
    X, y01 = Xy
    with pytest.raises(TypeError, match="can only save"):
        model_to_bytes(SklearnLogisticRegression().fit(X, y01))
    with pytest.raises(TypeError, match="can only save"):
        model_to_bytes(Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(X, y01))
    with pytest.raises(NotFittedError):
        save_model(LogisticRegression(), tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()


# -- atomic writes ---------------------------------------------------------


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_failed_write_keeps_the_old_file_and_leaves_no_temp(saved, Xy, monkeypatch, failing):
    X, y01 = Xy
    before = saved.read_bytes()
    listing = sorted(saved.parent.iterdir())

    def crash(*args, **kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr(persistence.os, failing, crash)
    with pytest.raises(OSError, match="disk on fire"):
        save_model(LogisticRegression(C=0.01).fit(X, y01), saved)
    monkeypatch.undo()
    assert saved.read_bytes() == before
    assert sorted(saved.parent.iterdir()) == listing
    load_model(saved)


def test_atomic_write_replaces_and_keeps_the_mode(tmp_path):
    path = tmp_path / "f.bin"
    atomic_write_bytes(path, b"one")
    os.chmod(path, 0o640)
    atomic_write_bytes(path, b"two")
    assert path.read_bytes() == b"two"
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


# -- metadata stored beside the model ---------------------------------------


def test_metadata_round_trips_and_is_covered_by_the_checksum(tmp_path, Xy):
    from logitdescent.persistence import load_model_metadata

    X, y01 = Xy
    model = LogisticRegression().fit(X, y01)
    path = save_model(model, tmp_path / "model.json", metadata={"decision_threshold": 0.3})
    assert load_model_metadata(path) == {"decision_threshold": 0.3}
    np.testing.assert_array_equal(load_model(path).predict_proba(X), model.predict_proba(X))
    assert load_model_metadata(save_model(model, tmp_path / "plain.json")) == {}
    # Editing the stored threshold breaks the checksum: never read from a modified file.
    tampered = path.read_text().replace('"decision_threshold": 0.3', '"decision_threshold": 0.9')
    assert tampered != path.read_text()
    (tmp_path / "tampered.json").write_text(tampered)
    with pytest.raises(ModelFileError, match="checksum"):
        load_model_metadata(tmp_path / "tampered.json")


@pytest.mark.parametrize(
    "metadata, match",
    [
        ({"decision_threshold": 1.5}, r"decision_threshold must be a number in \[0, 1\]"),
        ({"decision_threshold": "0.5"}, r"decision_threshold must be a number"),
        ({"threshold": 0.5}, r"metadata keys \['threshold'\] are not known"),
        (["decision_threshold"], r"metadata must be a dict"),
    ],
)
def test_bad_metadata_is_refused_before_anything_is_written(tmp_path, Xy, metadata, match):
    X, y01 = Xy
    with pytest.raises(TypeError, match=match):
        save_model(LogisticRegression().fit(X, y01), tmp_path / "model.json", metadata=metadata)
    assert not (tmp_path / "model.json").exists()
