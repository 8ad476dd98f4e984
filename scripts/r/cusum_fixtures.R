#!/usr/bin/env Rscript
# Writes the reference results of R's surveillance::glrnb (package 1.20.3) that
# src/core/detect/cusum_test.cc checks Sentinel's negative-binomial CUSUM against.
#
# Usage: Rscript scripts/r/cusum_fixtures.R <surveillance data dir> [<output dir>]
#   data dir:   the CSV exports of surveillance's data sets (column "observed", one region)
#   output dir: default test/cases/detect/cusum
#
# One file per series and configuration, <series>.<config>.csv. A "# " line states the
# parameters and what R estimated (alpha, the dispersion); then one row per week:
# series,time,observed,mu0,statistic,cases,alarm. Weeks before the judged range (the baseline
# the in-control mean is fitted on) have the last four columns empty. `statistic` is glrnb's
# upperbound with ret = "value", `cases` the one with ret = "cases", as R returns them after
# its clean-up (NA and negatives become 0). R's search for `cases` starts at one case, so for a
# week with no case and no alarm it returns 1e99; `cases_from_zero` holds, for those weeks, the
# smallest count that would have raised an alarm, found with R's own C routine the same way
# (empty elsewhere).
suppressMessages(library(surveillance))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 1) stop("usage: cusum_fixtures.R <data dir> [<output dir>]")
data_dir <- args[1]
out_dir <- if (length(args) >= 2) args[2] else "test/cases/detect/cusum"
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

freq <- 52
judged <- 104  # the last two years are judged; everything before is the baseline
series <- c("salmonella.agona", "k1", "m1", "n1", "s1", "h1_nrwrp", "hepatitisA", "stsNewport")

# glr: the generalised likelihood ratio detector (kappa estimated), R's default.
# lr:  the CUSUM for a known shift theta (Hoehle and Paul 2008, fixed kappa).
configs <- list(
  glr = list(c.ARL = 5),
  glr_alpha0.2_c3 = list(c.ARL = 3, alpha = 0.2),
  glr_window = list(c.ARL = 4, M = 26),
  lr_theta0.7 = list(c.ARL = 5, theta = 0.7),
  lr_theta1.2_alpha0.5_c2 = list(c.ARL = 2, theta = 1.2, alpha = 0.5)
)

num <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))

# The smallest count at the last week of a segment that makes glr_nb_window alarm there,
# searched from 1 upwards as glrnb's own search does from the observed count.
cases_from_zero <- function(xs, mus, alpha, control) {
  pos <- length(xs)
  for (v in 1:(control$xMax + 1)) {
    xs[pos] <- v
    res <- .C(surveillance:::C_glr_nb_window, x = as.integer(xs), mu0 = as.double(mus),
              alpha = as.double(alpha), lx = length(xs), Mtilde = as.integer(1),
              M = as.integer(control$M), c.ARL = as.double(control$c.ARL), N = as.integer(0),
              val = as.double(numeric(length(xs))), dir = as.integer(1))
    if (res$N <= pos) return(v)
  }
  NA
}

for (name in series) {
  y <- read.csv(file.path(data_dir, paste0(name, ".csv")))$observed
  n <- length(y)
  first <- n - judged + 1
  range <- first:n
  x <- sts(observed = y, frequency = freq)
  for (cname in names(configs)) {
    cfg <- configs[[cname]]
    control <- c(list(range = range), cfg)
    if (is.null(control$M)) control$M <- -1
    control$xMax <- 10000
    value <- suppressMessages(glrnb(x, control = c(control, list(ret = "value"))))
    cases <- suppressMessages(glrnb(x, control = c(control, list(ret = "cases"))))
    alpha <- value@control$alpha
    mu0 <- value@control$mu0
    alarm <- as.integer(value@alarm[, 1])
    stopifnot(identical(alarm, as.integer(cases@alarm[, 1])))
    upper_cases <- cases@upperbound[, 1]
    from_zero <- rep(NA_real_, judged)
    if (is.null(cfg$theta)) {
      start <- 1
      for (i in seq_len(judged)) {
        if (y[range[i]] == 0 && alarm[i] == 0 && upper_cases[i] == 1e99) {
          from_zero[i] <- cases_from_zero(y[range[start:i]], mu0[start:i], alpha, control)
        }
        if (alarm[i] == 1) start <- i + 1
      }
    }
    blank <- function(v) c(rep("", first - 1), v)
    path <- file.path(out_dir, sprintf("%s.%s.csv", name, cname))
    con <- file(path, "w")
    writeLines(sprintf(paste0("# glrnb config=%s c.ARL=%g M=%d theta=%s alpha_given=%s",
                              " alpha=%s freq=%d range=%d:%d surveillance=%s"),
                       cname, control$c.ARL, control$M,
                       if (is.null(cfg$theta)) "NULL" else num(cfg$theta),
                       if (is.null(cfg$alpha)) "NULL" else num(cfg$alpha), num(alpha), freq,
                       first, n, as.character(packageVersion("surveillance"))), con)
    writeLines("series,time,observed,mu0,statistic,cases,alarm,cases_from_zero", con)
    fz <- ifelse(is.na(from_zero), "", num(from_zero))
    writeLines(sprintf("%s,%d,%s,%s,%s,%s,%s,%s", name, seq_len(n), num(y), blank(num(mu0)),
                       blank(num(value@upperbound[, 1])), blank(num(upper_cases)),
                       blank(as.character(alarm)), blank(fz)), con)
    close(con)
  }
}
