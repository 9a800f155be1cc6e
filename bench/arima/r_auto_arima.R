# R's forecast::auto.arima (defaults) on one M3 category, series by series: the chosen model,
# its AICc, and the MASE / sMAPE of its forecasts on the held-out values. With
# shopgpu-arima-bench accuracy --models and bench/arima/compare_r.py this shows where and why
# the two searches choose differently.
#   apt-get install -y r-cran-forecast
#   Rscript bench/arima/r_auto_arima.R ../shared/data/timeseries/m3/M3_yearly.csv 1 1 r-yearly.csv
# Arguments: the M3 CSV, the ts frequency, the MASE period, the output CSV.
suppressMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 4) stop("usage: r_auto_arima.R M3.csv FREQUENCY MASE_PERIOD OUT.csv")
d <- read.csv(args[1], header = TRUE, stringsAsFactors = FALSE)
freq <- as.integer(args[2])
mm <- as.integer(args[3])
rows <- vector("list", nrow(d))
for (i in seq_len(nrow(d))) {
  n <- d$n[i]
  h <- d$nf[i]
  v <- as.numeric(d[i, 7:(6 + n)])
  y <- v[1:(n - h)]
  yt <- v[(n - h + 1):n]
  fit <- auto.arima(ts(y, frequency = freq))
  fc <- as.numeric(forecast(fit, h = h)$mean)
  a <- arimaorder(fit)
  s <- if (length(a) > 3) a[4:6] else c(0, 0, 0)
  rows[[i]] <- data.frame(
    series = i - 1, p = a[1], d = a[2], q = a[3], P = s[1], D = s[2], Q = s[3],
    mean = as.integer("intercept" %in% names(coef(fit))),
    drift = as.integer("drift" %in% names(coef(fit))), aicc = fit$aicc, loglik = fit$loglik,
    mase = mean(abs(yt - fc)) / mean(abs(diff(y, lag = mm))),
    smape = mean(200 * abs(yt - fc) / (abs(yt) + abs(fc))))
}
res <- do.call(rbind, rows)
write.csv(res, args[4], row.names = FALSE)
cat(sprintf("%d series: MASE %.4f sMAPE %.3f\n", nrow(res), mean(res$mase), mean(res$smape)))
