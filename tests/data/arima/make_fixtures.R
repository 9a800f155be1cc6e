# Reference values for tests/kernels/arima (run once; CI never needs R):
#   apt-get install -y r-cran-forecast && Rscript tests/data/arima/make_fixtures.R tests/data/arima
# Writes series.csv (the fixed series), fits.csv (stats::arima loglik, sigma2, aic, coefficients),
# forecasts.csv (predict.Arima means and standard errors) and kpss.csv (urca::ur.kpss statistics
# with forecast::ndiffs' lag, and forecast::ndiffs / nsdiffs answers).
suppressMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else "."
options(digits = 15)

series <- list(
  lh = lh, usacc = USAccDeaths, logair = log(AirPassengers), lakehuron = LakeHuron,
  www = WWWusage, logukgas = log(UKgas), nile = Nile)

# case, series, order, seasonal, method, include.mean, xreg kind ("" | "drift" | "time:<start>")
cases <- list(
  list("lh_ar1", "lh", c(1, 0, 0), c(0, 0, 0), "ML", TRUE, ""),
  list("lh_ar3", "lh", c(3, 0, 0), c(0, 0, 0), "ML", TRUE, ""),
  list("lh_arma11", "lh", c(1, 0, 1), c(0, 0, 0), "ML", TRUE, ""),
  list("lh_arma11_css", "lh", c(1, 0, 1), c(0, 0, 0), "CSS", TRUE, ""),
  list("usacc_airline", "usacc", c(0, 1, 1), c(0, 1, 1), "ML", FALSE, ""),
  list("usacc_airline_css", "usacc", c(0, 1, 1), c(0, 1, 1), "CSS", FALSE, ""),
  list("usacc_sar", "usacc", c(1, 0, 0), c(1, 1, 0), "ML", FALSE, ""),
  list("logair_airline", "logair", c(0, 1, 1), c(0, 1, 1), "ML", FALSE, ""),
  list("lakehuron_xreg", "lakehuron", c(2, 0, 0), c(0, 0, 0), "ML", TRUE, "time:-45"),
  list("www_arima111", "www", c(1, 1, 1), c(0, 0, 0), "ML", FALSE, ""),
  list("www_drift", "www", c(1, 1, 0), c(0, 0, 0), "ML", FALSE, "drift"),
  list("ukgas_sarima", "logukgas", c(1, 1, 0), c(0, 1, 1), "ML", FALSE, ""),
  list("nile_ma2", "nile", c(0, 1, 2), c(0, 0, 0), "ML", FALSE, ""))
h <- 12

con <- file(file.path(out, "series.csv"), "w")
writeLines("# name,m,n,values... (R datasets; logair = log(AirPassengers), logukgas = log(UKgas))", con)
for (nm in names(series)) {
  x <- series[[nm]]
  writeLines(paste(c(nm, frequency(x), length(x), sprintf("%.17g", as.numeric(x))), collapse = ","), con)
}
close(con)

fits <- c("# case,series,p,d,q,P,D,Q,m,method,mean,xreg,loglik,sigma2,aic,ncoef,coef...")
fcs <- c("# case,k,mean,se")
for (cs in cases) {
  x <- series[[cs[[2]]]]
  n <- length(x)
  xr <- NULL; newx <- NULL
  if (cs[[7]] == "drift") { xr <- 1:n; newx <- (n + 1):(n + h) }
  if (startsWith(cs[[7]], "time:")) {
    s0 <- as.numeric(sub("time:", "", cs[[7]])); xr <- s0 + 0:(n - 1); newx <- s0 + n:(n + h - 1)
  }
  fit <- arima(x, order = cs[[3]], seasonal = list(order = cs[[4]], period = frequency(x)),
               method = cs[[5]], include.mean = cs[[6]], xreg = xr)
  aic <- if (is.na(fit$aic)) "NA" else sprintf("%.12g", fit$aic)
  fits <- c(fits, paste(c(cs[[1]], cs[[2]], cs[[3]], cs[[4]], frequency(x), cs[[5]], as.integer(cs[[6]]),
                          if (cs[[7]] == "") "none" else cs[[7]], sprintf("%.12g", fit$loglik),
                          sprintf("%.12g", fit$sigma2), aic, length(fit$coef),
                          sprintf("%.12g", fit$coef)), collapse = ","))
  pr <- predict(fit, n.ahead = h, newxreg = newx)
  for (k in 1:h) fcs <- c(fcs, sprintf("%s,%d,%.12g,%.12g", cs[[1]], k, pr$pred[k], pr$se[k]))
}
writeLines(fits, file.path(out, "fits.csv"))
writeLines(fcs, file.path(out, "forecasts.csv"))

kp <- c("# series,n,lag,kpss_stat,ndiffs,nsdiffs (nsdiffs NA for m = 1)")
for (nm in names(series)) {
  x <- series[[nm]]
  lag <- trunc(3 * sqrt(length(x)) / 13)
  st <- urca::ur.kpss(as.numeric(x), type = "mu", use.lag = lag)@teststat
  nsd <- if (frequency(x) > 1) nsdiffs(x) else NA
  kp <- c(kp, sprintf("%s,%d,%d,%.12g,%d,%s", nm, length(x), lag, st, ndiffs(x), nsd))
}
writeLines(kp, file.path(out, "kpss.csv"))
