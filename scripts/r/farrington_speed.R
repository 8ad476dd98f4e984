#!/usr/bin/env Rscript
# Times R's surveillance::farringtonFlexible on the series bench/detect_farrington_bench writes
# (--write-series): each series judged at its latest week, with the original (1996) and the
# Noufaily (2013) settings, as the C++ benchmark does.
#
# Usage: Rscript scripts/r/farrington_speed.R <series.csv>
#   series.csv: one column per series, one row per week (weekly, frequency 52).
# Prints one line per preset: "<preset> <series> <seconds> <alarms>".
suppressMessages(library(surveillance))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1) stop("usage: farrington_speed.R <series.csv>")
observed <- as.matrix(read.csv(args[1], check.names = FALSE))
n <- nrow(observed)
w <- 3
presets <- list(
  original = list(reweight = TRUE, weightsThreshold = 1, trend = TRUE, pThresholdTrend = 0.05,
                  limit54 = c(5, 4), powertrans = "2/3", noPeriods = 1,
                  pastWeeksNotIncluded = w, thresholdMethod = "delta"),
  noufaily = list(reweight = TRUE, weightsThreshold = 2.58, trend = TRUE, pThresholdTrend = 1,
                  limit54 = c(5, 4), powertrans = "2/3", noPeriods = 10,
                  pastWeeksNotIncluded = 26, thresholdMethod = "nbPlugin"))
counts <- sts(observed = observed, frequency = 52)
for (name in names(presets)) {
  control <- c(presets[[name]], list(range = n, b = 5, w = w, alpha = 0.05,
                                     glmWarnings = FALSE))
  seconds <- system.time(res <- farringtonFlexible(counts, control = control))[["elapsed"]]
  alarms <- sum(res@alarm, na.rm = TRUE)
  cat(sprintf("%s %d %.3f %d\n", name, ncol(observed), seconds, alarms))
}
