"""Small helpers the rest of the package shares; not public API.

- `lazy`: PEP 562 lazy re-exports for package `__init__`s;
- `io_utils`: atomic writes (temp file + rename);
- `pixels`: uint8 / float pixel conversions in NumPy;
- `progress`: Keras-style progress bars for work outside `fit`;
- `native_logs`: hides TensorFlow's C++ log lines from the CLI's stderr;
- `seeds`: one int64 seed per drawn row (samplers, signatures, client).

None of them imports TensorFlow.
"""
