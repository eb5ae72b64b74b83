// The passkey offer after a password sign-in, with @simplewebauthn/browser (window.SimpleWebAuthnBrowser): the
// "Create a passkey" button runs the ceremony and posts the new credential in its form.
/* global window, document */
(function () {
  'use strict';
  var lib = window.SimpleWebAuthnBrowser;
  var form = document.getElementById('offer-form');
  if (!lib || !form || !lib.browserSupportsWebAuthn()) return;
  var options = JSON.parse(form.getAttribute('data-options'));
  var field = form.querySelector('input[name="passkey_response"]');
  var button = document.getElementById('offer-create');
  var status = document.getElementById('offer-status');

  form.hidden = false;
  form.addEventListener('submit', function (event) {
    if (field.value !== '') return;
    event.preventDefault();
    status.textContent = '';
    button.disabled = true;
    lib.startRegistration({ optionsJSON: options }).then(
      function (response) {
        field.value = JSON.stringify(response);
        form.submit();
      },
      function () {
        status.textContent = form.getAttribute('data-cancelled');
        button.disabled = false;
      },
    );
  });
})();
