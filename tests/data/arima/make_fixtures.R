# Reference values for tests/kernels/arima (run once; CI never needs R):
#   apt-get install -y r-cran-forecast && Rscript tests/data/arima/make_fixtures.R tests/data/arima
# Writes series.csv (the fixed series), fits.csv (stats::arima loglik, sigma2, aic, coefficients),
# forecasts.csv (predict.Arima means and standard errors) and kpss.csv (urca::ur.kpss statistics
# with forecast::ndiffs' lag, and forecast::ndiffs / nsdiffs answers).
suppressMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else "."
m3dir <- if (length(args) > 1) args[2] else "../shared/data/timeseries/m3"
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

# auto.arima's stepwise choices (forecast 8.20, defaults) on five M3 yearly series (training
# part, the last 6 values of each held out; ../shared/data/timeseries/m3/M3_yearly.csv). N601
# and N123: the null model without drift wins the start, and the search goes on around it with
# drift; N94 and N173: candidates whose CSS AR estimate is non-stationary fail; N478: the
# winner, AR(2) without mean, has complex roots of modulus 1.020 where R's BFGS stops, and the
# AR(2) with mean a local optimum with a sensible mean (a higher one has a root at 1.0002).
n478 <- c(6881, 6989, 7031, 7055, 7070, 7101, 7132, 7137, 7151, 7160, 7130, 7108, 7079, 7052,
          7019, 6987, 6951, 6913, 6874)
m3 <- list(
  N601 = c(2054, 2481, 2667, 3082, 3700, 3849, 3868, 3978, 3985, 3922, 4053, 4527, 4785, 5123,
           5697, 5951, 5997, 5870, 4121),
  N123 = c(1397, 1561.8, 1847.7, 2154.55, 2913.3, 3318.55, 3564, 3605.65, 4765, 4965, 4990, 405,
           5040, 5225),
  N94 = c(3489.5, 3735.4, 3969.1, 4131.35, 4333.4, 4409.6, 4503.05, 4357.6, 4505.8, 4645.8,
          5256.7, 6142.6, 7436, 9396.5),
  N173 = c(274, 312.8, 356.4, 407.8, 445.4, 497.4, 548.2, 586.6, 637.4, 698.8, 756.8, 818.6,
           881.2, 942.2, 994.6, 1056, 1117, 1184.4, 1254.4, 1339.8, 1418, 1515.6, 1642.6, 1781.6,
           1994, 2252.4, 2486, 2779, 3051.2, 3324.2, 3633.4, 3981.8, 4393.4, 4866.6, 5623.2),
  N478 = n478)
au <- c("# name,p,d,q,constant (mean or drift),aicc,n,values...")
for (nm in names(m3)) {
  fit <- auto.arima(ts(m3[[nm]], frequency = 1))
  a <- arimaorder(fit)
  cst <- as.integer(any(c("intercept", "drift") %in% names(coef(fit))))
  au <- c(au, paste(c(nm, a[1:3], cst, sprintf("%.12g", fit$aicc), length(m3[[nm]]),
                      sprintf("%.17g", m3[[nm]])), collapse = ","))
}
writeLines(au, file.path(out, "auto.csv"))

# Exact log-likelihood at fixed parameters near a unit root (M3 yearly N478, training part):
# stats::arima counts only the steps whose prediction variance is below 1e4 sigma^2, so the
# first values of a nearly non-stationary AR(2) drop out of its likelihood.
fl <- c("# name,p,q,mean,ncoef,coef...,loglik,n,values...")
for (cf in list(c(1.992, -0.9931), c(1.5, -0.6))) {
  fit <- arima(n478, order = c(2, 0, 0), include.mean = FALSE, fixed = cf, transform.pars = FALSE)
  fl <- c(fl, paste(c("N478", 2, 0, 0, length(cf), sprintf("%.17g", cf),
                      sprintf("%.12g", fit$loglik), length(n478), sprintf("%.17g", n478)),
                    collapse = ","))
}
writeLines(fl, file.path(out, "fixed_loglik.csv"))

# forecast::nsdiffs's seasonal strength (seas.heuristic: STL with s.window 11 via mstl) of the
# seasonal R datasets and of M3 series whose strength lies near the 0.64 threshold (training
# part: the last nf values held out), values written out so the test needs no M3 files.
ss <- c("# name,m,strength,n,values...")
for (nm in c("usacc", "logair", "logukgas")) {
  x <- series[[nm]]
  ss <- c(ss, paste(c(nm, frequency(x), sprintf("%.17g", forecast:::seas.heuristic(x)), length(x),
                      sprintf("%.17g", as.numeric(x))), collapse = ","))
}
for (pick in list(c("M3_quarterly.csv", 4, 177), c("M3_quarterly.csv", 4, 172),
                  c("M3_monthly.csv", 12, 323), c("M3_monthly.csv", 12, 351),
                  c("M3_monthly.csv", 12, 170), c("M3_monthly.csv", 12, 652))) {
  d <- read.csv(file.path(m3dir, pick[1]), header = TRUE, stringsAsFactors = FALSE)
  i <- as.integer(pick[3]) + 1
  v <- as.numeric(d[i, 7:(6 + d$n[i])])
  y <- v[1:(d$n[i] - d$nf[i])]
  x <- ts(y, frequency = as.integer(pick[2]))
  ss <- c(ss, paste(c(d$series[i], pick[2], sprintf("%.17g", forecast:::seas.heuristic(x)),
                      length(y), sprintf("%.17g", y)), collapse = ","))
}
writeLines(ss, file.path(out, "seas.csv"))
