// The login page's passkey sign-in, with @simplewebauthn/browser (window.SimpleWebAuthnBrowser): the button, and
// the browser's autofill (conditional UI) on the username field. Either posts the assertion in the passkey form.
/* global window, document */
(function () {
  'use strict';
  var lib = window.SimpleWebAuthnBrowser;
  var form = document.getElementById('passkey-form');
  if (!lib || !form || !lib.browserSupportsWebAuthn()) return;
  var options = JSON.parse(form.getAttribute('data-options'));
  var field = form.querySelector('input[name="passkey_response"]');
  var button = document.getElementById('passkey-button');
  var status = document.getElementById('passkey-status');
  var sent = false;

  function submit(response) {
    if (sent) return;
    sent = true;
    field.value = JSON.stringify(response);
    form.submit();
  }
  function failed(error) {
    // The button's request replaces the autofill one, which then ends with an AbortError: not a failure.
    if (sent || (error && error.name === 'AbortError')) return;
    status.textContent = form.getAttribute('data-cancelled');
    button.disabled = false;
  }

  form.hidden = false;
  button.addEventListener('click', function () {
    status.textContent = '';
    button.disabled = true;
    lib.startAuthentication({ optionsJSON: options }).then(submit, failed);
  });
  lib.browserSupportsWebAuthnAutofill().then(function (supported) {
    if (!supported || sent) return;
    lib.startAuthentication({ optionsJSON: options, useBrowserAutofill: true }).then(submit, function () {});
  });
})();
