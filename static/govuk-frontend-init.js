// Starts GOV.UK Frontend's components. The page names the file to load, with its version, in
// this script element's data-govuk-frontend attribute, so that browsers may cache it for long.
const script = document.querySelector('script[data-govuk-frontend]');
import(script.dataset.govukFrontend).then(({ initAll }) => initAll());
