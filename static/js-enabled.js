// Runs before the page is drawn, from the top of <body>: tells GOV.UK Frontend's styles that
// scripts run here, and whether its components will (browsers that load modules).
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' govuk-frontend-supported' : '');
