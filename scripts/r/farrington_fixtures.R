#!/usr/bin/env Rscript
# Writes the reference results of R's surveillance::farringtonFlexible (package 1.20.3) that
# src/core/detect/farrington_test.cc checks Sentinel's Farrington detector against.
#
# Usage: Rscript scripts/r/farrington_fixtures.R <surveillance data dir> [<output dir>]
#   data dir:   the CSV exports of surveillance's data sets (column "observed", one region)
#   output dir: default test/cases/detect/farrington
#
# One file per series and preset, <series>.<preset>.csv. A "# " line states the parameters;
# then one row per week of the series: series,time,observed,expected,upperbound,alarm. Weeks
# outside the evaluated range have the last three columns empty; "NA" is R's NA. `time` is the
# 1-based week index (the sts objects are built without dates, so R's epochAsDate is FALSE).
suppressMessages(library(surveillance))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 1) stop("usage: farrington_fixtures.R <data dir> [<output dir>]")
data_dir <- args[1]
out_dir <- if (length(args) >= 2) args[2] else "test/cases/detect/farrington"
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

freq <- 52
w <- 3
alpha <- 0.01
# Long series: b = 5 years back, the last three years evaluated (or all that b allows).
# The four-year RKI series: b = 3, every week that has three years of history.
series <- list(
  list(name = "salmonella.agona", b = 5), list(name = "salmAllOnset", b = 5),
  list(name = "salmHospitalized", b = 5), list(name = "stsNewport", b = 5),
  list(name = "k1", b = 3), list(name = "m1", b = 3), list(name = "m5", b = 3),
  list(name = "n1", b = 3), list(name = "q2", b = 3), list(name = "s1", b = 3),
  list(name = "h1_nrwrp", b = 3))

presets <- list(
  original = list(reweight = TRUE, weightsThreshold = 1, trend = TRUE, pThresholdTrend = 0.05,
                  limit54 = c(5, 4), powertrans = "2/3", populationOffset = FALSE,
                  noPeriods = 1, pastWeeksNotIncluded = w, thresholdMethod = "delta"),
  noufaily = list(reweight = TRUE, weightsThreshold = 2.58, trend = TRUE, pThresholdTrend = 1,
                  limit54 = c(5, 4), powertrans = "2/3", populationOffset = FALSE,
                  noPeriods = 10, pastWeeksNotIncluded = 26, thresholdMethod = "nbPlugin"),
  muan = list(reweight = TRUE, weightsThreshold = 2.58, trend = TRUE, pThresholdTrend = 1,
              limit54 = c(5, 4), powertrans = "2/3", populationOffset = FALSE,
              noPeriods = 10, pastWeeksNotIncluded = 26, thresholdMethod = "muan"))

# The same without the reporting minimum, so that every step's expectation and bound is compared.
for (pname in c("original", "noufaily")) {
  presets[[paste0(pname, "_nolimit")]] <- modifyList(presets[[pname]], list(limit54 = c(0, 4)))
}

num <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))

for (s in series) {
  d <- read.csv(file.path(data_dir, paste0(s$name, ".csv")))
  y <- d$observed
  n <- length(y)
  first <- max(freq * s$b + w + 1, n - 3 * freq + 1)
  range <- first:n
  for (pname in names(presets)) {
    control <- c(presets[[pname]], list(range = range, b = s$b, w = w, alpha = alpha,
                                        glmWarnings = FALSE))
    res <- farringtonFlexible(sts(observed = y, frequency = freq), control = control)
    expected <- rep(NA_character_, n)
    upper <- rep(NA_character_, n)
    alarm <- rep(NA_character_, n)
    expected[range] <- num(res@control$expected[, 1])
    upper[range] <- num(res@upperbound[, 1])
    alarm[range] <- ifelse(is.na(res@alarm[, 1]), "NA", as.integer(res@alarm[, 1]))
    blank <- function(x) ifelse(is.na(x), "", x)
    path <- file.path(out_dir, sprintf("%s.%s.csv", s$name, pname))
    con <- file(path, "w")
    writeLines(sprintf(paste0("# farringtonFlexible preset=%s b=%d w=%d alpha=%g freq=%d",
                              " range=%d:%d surveillance=%s"),
                       pname, s$b, w, alpha, freq, first, n,
                       as.character(packageVersion("surveillance"))), con)
    writeLines("series,time,observed,expected,upperbound,alarm", con)
    writeLines(sprintf("%s,%d,%s,%s,%s,%s", s$name, seq_len(n), num(y), blank(expected),
                       blank(upper), blank(alarm)), con)
    close(con)
  }
}
