#!/usr/bin/env Rscript
# Regenerates test/cases/detect/ears/*.csv: R surveillance's earsC() (C1, C2, C3) on real
# surveillance series, the reference Sentinel's EARS detectors must agree with.
#
#   Rscript scripts/r/surveillance_fixtures.R DATA_DIR [OUT_DIR]
#
# DATA_DIR holds the series exported from surveillance as CSV (../shared/data/surveillance:
# column "observed", weekly); OUT_DIR defaults to test/cases/detect/ears. Each fixture holds one
# configuration (method, alpha, baseline, minSigma) over several series, with the input counts,
# so the tests need neither R nor the data directory. R gives no expected value for EARS and NA
# where it cannot judge: those cells are empty. Needs r-cran-surveillance (1.20.3 made the
# committed fixtures).
suppressPackageStartupMessages(library(surveillance))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 1) stop("usage: surveillance_fixtures.R DATA_DIR [OUT_DIR]")
data_dir <- args[1]
out_dir <- if (length(args) >= 2) args[2] else "test/cases/detect/ears"
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

series <- c("k1", "m1", "n1", "q2", "s1", "h1_nrwrp", "salmonella.agona", "hepatitisA")
configs <- list(
  list(alpha = 0.001, baseline = 7, minSigma = 0),
  list(alpha = 0.01, baseline = 7, minSigma = 0),
  list(alpha = 0.001, baseline = 12, minSigma = 0),
  list(alpha = 0.001, baseline = 7, minSigma = 0.5)
)

num <- function(x) ifelse(is.na(x), "", sprintf("%.17g", x))

for (method in c("C1", "C2", "C3")) {
  for (cfg in configs) {
    rows <- list()
    for (name in series) {
      observed <- read.csv(file.path(data_dir, paste0(name, ".csv")))$observed
      n <- length(observed)
      x <- sts(observed = matrix(observed, ncol = 1), frequency = 52)
      control <- list(method = method, alpha = cfg$alpha, baseline = cfg$baseline,
                      minSigma = cfg$minSigma)
      res <- earsC(x, control = control)
      judged <- res@control$range
      ub <- rep(NA_real_, n)
      al <- rep(NA, n)
      ub[judged] <- upperbound(res)[, 1]
      al[judged] <- alarms(res)[, 1]
      rows[[name]] <- data.frame(
        series = name, time = seq_len(n), observed = num(observed), expected = "",
        upperbound = num(ub),
        alarm = ifelse(is.na(al), "", ifelse(al, "true", "false")))
    }
    table <- do.call(rbind, rows)
    file <- file.path(out_dir, sprintf("%s_alpha%s_baseline%d_minsigma%s.csv", tolower(method),
                                       format(cfg$alpha), cfg$baseline, format(cfg$minSigma)))
    con <- file(file, "w")
    writeLines(c(
      sprintf("# earsC, surveillance %s, R %s (scripts/r/surveillance_fixtures.R)",
              packageVersion("surveillance"), getRversion()),
      sprintf("# method=%s alpha=%s baseline=%d minSigma=%s", method, format(cfg$alpha),
              cfg$baseline, format(cfg$minSigma))), con)
    write.table(table, con, sep = ",", quote = FALSE, row.names = FALSE)
    close(con)
    cat(sprintf("%s: %d rows, %d alarms\n", file, nrow(table), sum(table$alarm == "true")))
  }
}
