// OpenBLAS through Debian's libopenblas-dev (`pkg-config openblas`). Debian builds OpenBLAS
// without LAPACKE, so the Fortran LAPACK routines slotsim uses are declared here by hand:
// every argument by pointer, column-major storage, and after the listed arguments one
// hidden `size_t` length per character argument (gfortran's convention; pass 1).
#ifndef SLOTSIM_COPENBLAS_SHIM_H
#define SLOTSIM_COPENBLAS_SHIM_H

#include <stddef.h>
#include <cblas.h>

/// Cholesky factor of a symmetric positive definite matrix: A = L Lᵀ (uplo "L").
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t uplo_len);
/// Solves A X = B with the factor from dpotrf_.
void dpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a, const int *lda,
             double *b, const int *ldb, int *info, size_t uplo_len);
/// Reciprocal condition number (1-norm) of a Cholesky-factored matrix, from its 1-norm `anorm`.
void dpocon_(const char *uplo, const int *n, const double *a, const int *lda, const double *anorm,
             double *rcond, double *work, int *iwork, int *info, size_t uplo_len);
/// Least squares min ‖A x − b‖ for a full-rank A (QR); trans "N".
void dgels_(const char *trans, const int *m, const int *n, const int *nrhs, double *a, const int *lda,
            double *b, const int *ldb, double *work, const int *lwork, int *info, size_t trans_len);
/// Reciprocal condition number of a triangular matrix (norm "1", uplo "U", diag "N").
void dtrcon_(const char *norm, const char *uplo, const char *diag, const int *n, const double *a, const int *lda,
             double *rcond, double *work, int *iwork, int *info, size_t norm_len, size_t uplo_len, size_t diag_len);

#endif
