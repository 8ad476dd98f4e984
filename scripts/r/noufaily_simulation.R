#!/usr/bin/env Rscript
# R's side of the detection-quality benchmark (docs/detect_simulation.md): judges the series that
# build/detect_simulation_bench simulated, with surveillance::farringtonFlexible (original and
# Noufaily settings) and earsC (C1, C2, C3), and compares its alarms with Sentinel's.
#
# Usage: Rscript scripts/r/noufaily_simulation.R <data dir> [<replicates>] [<cores>]
#   data dir:   the bench's --out directory (counts.csv, outbreaks.csv, series.csv, and
#               alarms.sentinel.csv when Sentinel has judged them)
#   replicates: how many of each scenario's replicates R judges (default 10; R takes about
#               1.5 s per replicate and method, Sentinel a few ms)
#   cores:      parallel::mclapply workers (default 2)
#
# Writes <data dir>/alarms.R.csv (method,series,kind,time,alarm; as the bench's file) and prints,
# per method, FPR and POD of R and of Sentinel on the same series, the share of judged weeks on
# which both raise the same alarm, and R's time.
suppressMessages(library(surveillance))
suppressMessages(library(parallel))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 1) stop("usage: noufaily_simulation.R <data dir> [<replicates>] [<cores>]")
data_dir <- args[1]
replicates <- if (length(args) >= 2) as.integer(args[2]) else 10L
cores <- if (length(args) >= 3) as.integer(args[3]) else 2L
alpha <- 0.01
first_test_week <- 576
weeks <- 624

series <- read.csv(file.path(data_dir, "series.csv"))
series <- series[series$replicate <= replicates, ]
counts <- read.csv(file.path(data_dir, "counts.csv"))
counts <- split(counts$count, counts$series)
outbreaks <- read.csv(file.path(data_dir, "outbreaks.csv"))
outbreaks <- split(outbreaks[, c("time", "cases")], outbreaks$series)

# The control lists of scripts/r/farrington_fixtures.R, which Sentinel's presets reproduce.
farrington_controls <- list(
  farrington = list(b = 5, w = 3, reweight = TRUE, weightsThreshold = 1, trend = TRUE,
                    pThresholdTrend = 0.05, limit54 = c(5, 4), powertrans = "2/3",
                    populationOffset = FALSE, noPeriods = 1, pastWeeksNotIncluded = 3,
                    thresholdMethod = "delta", alpha = alpha, glmWarnings = FALSE),
  noufaily = list(b = 5, w = 3, reweight = TRUE, weightsThreshold = 2.58, trend = TRUE,
                  pThresholdTrend = 1, limit54 = c(5, 4), powertrans = "2/3",
                  populationOffset = FALSE, noPeriods = 10, pastWeeksNotIncluded = 26,
                  thresholdMethod = "nbPlugin", alpha = alpha, glmWarnings = FALSE))
methods <- c(names(farrington_controls), "C1", "C2", "C3")

judge <- function(method, y, range) {
  x <- sts(observed = y, frequency = 52)
  if (method %in% names(farrington_controls)) {
    res <- farringtonFlexible(x, control = c(farrington_controls[[method]], list(range = range)))
    a <- alarms(res)[, 1]
  } else {
    # earsC fails on a range of one week, so it judges every test week and the asked ones are
    # kept; EARS judges each week from its own 7-week baseline, so this changes no alarm.
    test_weeks <- first_test_week:weeks
    res <- earsC(x, control = list(method = method, baseline = 7, alpha = alpha, minSigma = 0,
                                   range = test_weeks))
    a <- alarms(res)[match(range, test_weeks), 1]
  }
  ifelse(is.na(a), "NA", as.integer(a))
}

judge_series <- function(method, i) {
  s <- series[i, ]
  y <- counts[[as.character(s$series)]]
  test_weeks <- first_test_week:weeks
  rows <- data.frame(method = method, series = s$series, kind = "fpr", time = test_weeks,
                     alarm = judge(method, y, test_weeks))
  if (s$size > 0 && s$end > 0) {
    extra <- outbreaks[[as.character(s$series)]]
    y[extra$time] <- y[extra$time] + extra$cases
    outbreak_weeks <- s$start:s$end
    rows <- rbind(rows, data.frame(method = method, series = s$series, kind = "pod",
                                   time = outbreak_weeks,
                                   alarm = judge(method, y, outbreak_weeks)))
  }
  rows
}

results <- list()
seconds <- c()
for (method in methods) {
  started <- Sys.time()
  judged <- mclapply(seq_len(nrow(series)), function(i) judge_series(method, i),
                     mc.cores = cores)
  failed <- Filter(function(x) inherits(x, "try-error"), judged)
  if (length(failed) > 0) stop(sprintf("%s: %s", method, failed[[1]]))
  results[[method]] <- do.call(rbind, judged)
  seconds[method] <- as.numeric(difftime(Sys.time(), started, units = "secs"))
  message(sprintf("  R %-10s %7.1f s (%d series, %d cores)", method, seconds[method],
                  nrow(series), cores))
}
r_alarms <- do.call(rbind, results)
write.csv(r_alarms, file.path(data_dir, "alarms.R.csv"), row.names = FALSE, quote = FALSE)

rates <- function(a) {
  fpr <- a[a$kind == "fpr", ]
  pod <- a[a$kind == "pod", ]
  detected <- tapply(pod$alarm == "1", pod$series, any)
  c(fpr = 100 * mean(fpr$alarm == "1"), pod = 100 * mean(detected))
}

sentinel_file <- file.path(data_dir, "alarms.sentinel.csv")
have_sentinel <- file.exists(sentinel_file)
if (have_sentinel) {
  # "NA" (a week Sentinel does not judge) is kept as text, as in R's own alarms.
  ours <- read.csv(sentinel_file, colClasses = c(alarm = "character"), na.strings = character())
  ours <- ours[ours$series %in% series$series, ]
}
cat(sprintf(paste0("\nR surveillance %s beside Sentinel on the same %d series (%d replicates per",
                   " scenario), alpha %g\n"), as.character(packageVersion("surveillance")),
            nrow(series), replicates, alpha))
cat(sprintf("%-11s %9s %9s %9s %9s %10s %12s %8s\n", "method", "FPR R", "FPR ours", "POD R",
            "POD ours", "agreement", "differing", "R time"))
for (method in methods) {
  r <- r_alarms[r_alarms$method == method, ]
  rr <- rates(r)
  if (have_sentinel) {
    o <- ours[ours$method == method, ]
    oo <- rates(o)
    both <- merge(r, o, by = c("series", "kind", "time"), suffixes = c(".r", ".ours"))
    same <- both$alarm.r == both$alarm.ours
    cat(sprintf("%-11s %8.2f%% %8.2f%% %8.1f%% %8.1f%% %9.3f%% %5d of %-5d %7.1fs\n", method,
                rr["fpr"], oo["fpr"], rr["pod"], oo["pod"], 100 * mean(same), sum(!same),
                nrow(both), seconds[method]))
  } else {
    cat(sprintf("%-11s %8.2f%% %9s %8.1f%% %9s %10s %12s %7.1fs\n", method, rr["fpr"], "-",
                rr["pod"], "-", "-", "-", seconds[method]))
  }
}
