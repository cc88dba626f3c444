namespace Collections.Gateway.Portal;

/// <summary>The self-service page's words, in English and Spanish: short sentences, plain words.</summary>
public static class PortalText
{
    private static readonly Dictionary<string, (string En, string Es)> Words = new()
    {
        ["title"] = ("Pay your bill", "Pague su factura"),
        ["skip"] = ("Skip to the main content", "Ir al contenido principal"),
        ["other-language"] = ("Español", "English"),
        ["verify.lead"] = ("To see your bill, tell us your date of birth.", "Para ver su factura, díganos su fecha de nacimiento."),
        ["verify.code-lead"] = ("Enter the statement code printed on your bill and your date of birth.", "Escriba el código del estado de cuenta que aparece en su factura y su fecha de nacimiento."),
        ["verify.code"] = ("Statement code", "Código del estado de cuenta"),
        ["verify.code-hint"] = ("15 letters and numbers, for example 7K2QF-8M3XD-4RT9B.", "15 letras y números, por ejemplo 7K2QF-8M3XD-4RT9B."),
        ["verify.dob"] = ("Date of birth of the person responsible for the bill", "Fecha de nacimiento de la persona responsable de la factura"),
        ["verify.dob-hint"] = ("Month, day and year.", "Mes, día y año."),
        ["verify.month"] = ("Month", "Mes"),
        ["verify.day"] = ("Day", "Día"),
        ["verify.year"] = ("Year", "Año"),
        ["verify.submit"] = ("Continue", "Continuar"),
        ["verify.wrong"] = ("That does not match our records. Check the date and try again.", "Eso no coincide con nuestros registros. Revise la fecha e intente de nuevo."),
        ["verify.left"] = ("Tries left: {0}.", "Intentos restantes: {0}."),
        ["verify.locked"] = ("Too many tries. For your safety, try again in {0} minutes, or call the billing office.", "Demasiados intentos. Por su seguridad, intente de nuevo en {0} minutos, o llame a la oficina de facturación."),
        ["verify.dob-invalid"] = ("Enter the date of birth as month (1-12), day and year, for example 4, 2, 1980. This did not count as a try.", "Escriba la fecha de nacimiento como mes (1-12), día y año, por ejemplo 4, 2, 1980. Esto no contó como intento."),
        ["verify.bad-link"] = ("This link does not work. It may be old or incomplete. Enter the code from your bill instead.", "Este enlace no funciona. Puede ser antiguo o estar incompleto. Escriba el código de su factura."),
        ["verify.bad-code"] = ("We could not find that statement code. Check it and try again.", "No encontramos ese código. Revíselo e intente de nuevo."),
        ["verify.expired"] = ("Your session ended. Please start again.", "Su sesión terminó. Por favor, empiece de nuevo."),
        ["home.hello"] = ("Hello, {0}", "Hola, {0}"),
        ["home.total"] = ("You owe {0} in all.", "Usted debe {0} en total."),
        ["home.nothing"] = ("You do not owe anything right now. Thank you.", "No debe nada en este momento. Gracias."),
        ["home.accounts"] = ("Your bills", "Sus facturas"),
        ["home.visit"] = ("Visit on {0}", "Visita del {0}"),
        ["home.bill"] = ("Visit on {0}, account {1}", "Visita del {0}, cuenta {1}"),
        ["home.insurance-pending"] = ("Waiting for your insurance: {0}. You do not owe this part now; we will tell you if insurance leaves some of it to you.", "Esperando a su seguro: {0}. No debe esta parte ahora; le avisaremos si el seguro le deja una parte a usted."),
        ["home.owed"] = ("You owe {0}", "Usted debe {0}"),
        ["home.why"] = ("Charges {0}. Insurance paid {1}. Discounts and adjustments {2}. You paid {3}.", "Cargos {0}. El seguro pagó {1}. Descuentos y ajustes {2}. Usted pagó {3}."),
        ["home.combined"] = ("One statement for all your bills (PDF)", "Un estado de cuenta con todas sus facturas (PDF)"),
        ["home.statement"] = ("See the statement (PDF)", "Ver el estado de cuenta (PDF)"),
        ["home.on-hold"] = ("We are reviewing this bill. You do not need to pay it while we review.", "Estamos revisando esta factura. No necesita pagarla mientras la revisamos."),
        ["home.plan"] = ("Payment plan: {0} a month, next due {1}.", "Plan de pagos: {0} al mes, próximo pago el {1}."),
        ["home.promise"] = ("You told us you will pay {0} by {1}.", "Nos dijo que pagará {0} antes del {1}."),
        ["pay.heading"] = ("Pay now", "Pagar ahora"),
        ["pay.amount"] = ("Amount to pay, in dollars", "Cantidad a pagar, en dólares"),
        ["pay.amount-hint"] = ("You can pay all of it or part of it. We apply it to your oldest bill first.", "Puede pagar todo o una parte. Lo aplicamos primero a su factura más antigua."),
        ["pay.save-card"] = ("Keep my card on file for my payment plan (autopay)", "Guardar mi tarjeta para mi plan de pagos (pago automático)"),
        ["pay.submit"] = ("Pay with a card", "Pagar con tarjeta"),
        ["pay.secure"] = ("You will type your card on our payment processor's secure page. We never see your card number.", "Escribirá su tarjeta en la página segura de nuestro procesador de pagos. Nunca vemos el número de su tarjeta."),
        ["pay.unavailable"] = ("Card payments are not working right now. Please try again in a few minutes, or call the billing office.", "Los pagos con tarjeta no funcionan en este momento. Intente de nuevo en unos minutos, o llame a la oficina de facturación."),
        ["return.done"] = ("Thank you. We received your payment of {0}.", "Gracias. Recibimos su pago de {0}."),
        ["return.receipt"] = ("Your receipt: payment {0}, {1} ending in {2}.", "Su recibo: pago {0}, {1} que termina en {2}."),
        ["return.waiting"] = ("We are waiting for your card company to confirm the payment. This page will show it when it does.", "Estamos esperando que su compañía de tarjeta confirme el pago. Esta página lo mostrará cuando lo haga."),
        ["return.refresh"] = ("Check again", "Revisar de nuevo"),
        ["return.declined"] = ("Your card was declined ({0}). Nothing was charged. You can try another card.", "Su tarjeta fue rechazada ({0}). No se cobró nada. Puede intentar con otra tarjeta."),
        ["return.back"] = ("Back to your bills", "Volver a sus facturas"),
        ["plan.heading"] = ("Set up a payment plan", "Crear un plan de pagos"),
        ["plan.account"] = ("Which bill", "Cuál factura"),
        ["plan.months"] = ("Number of monthly payments", "Número de pagos mensuales"),
        ["plan.first"] = ("First payment date", "Fecha del primer pago"),
        ["plan.submit"] = ("Start the plan", "Empezar el plan"),
        ["plan.done"] = ("Your payment plan is set up.", "Su plan de pagos está listo."),
        ["autopay.heading"] = ("Pay my plan automatically", "Pagar mi plan automáticamente"),
        ["autopay.lead"] = ("We will charge {0} ending in {1} on each due date.", "Cobraremos a la tarjeta {0} que termina en {1} en cada fecha de pago."),
        ["autopay.submit"] = ("Turn on autopay", "Activar el pago automático"),
        ["autopay.on"] = ("Autopay is on for this plan.", "El pago automático está activado para este plan."),
        ["autopay.remove"] = ("Remove my card", "Quitar mi tarjeta"),
        ["promise.heading"] = ("Promise to pay by a date", "Prometer pagar antes de una fecha"),
        ["promise.amount"] = ("Amount, in dollars", "Cantidad, en dólares"),
        ["promise.date"] = ("Date", "Fecha"),
        ["promise.submit"] = ("Send my promise", "Enviar mi promesa"),
        ["promise.done"] = ("Thank you. We will not send reminders before that date.", "Gracias. No enviaremos recordatorios antes de esa fecha."),
        ["fa.heading"] = ("Ask for financial assistance", "Pedir ayuda financiera"),
        ["fa.lead"] = ("You may get free or lower-cost care based on your income and family size. While we review, we will not ask you to pay.", "Puede recibir atención gratuita o de menor costo según sus ingresos y el tamaño de su familia. Mientras revisamos, no le pediremos que pague."),
        ["fa.household"] = ("People in your household", "Personas en su hogar"),
        ["fa.income"] = ("Yearly household income, in dollars", "Ingreso anual del hogar, en dólares"),
        ["fa.note"] = ("Anything else we should know (optional)", "Algo más que debamos saber (opcional)"),
        ["fa.submit"] = ("Send my application", "Enviar mi solicitud"),
        ["fa.done"] = ("We received your application. A person will review it and contact you.", "Recibimos su solicitud. Una persona la revisará y se comunicará con usted."),
        ["dispute.heading"] = ("Something is wrong with my bill", "Algo está mal en mi factura"),
        ["dispute.text"] = ("Tell us what is wrong", "Díganos qué está mal"),
        ["dispute.submit"] = ("Send", "Enviar"),
        ["dispute.done"] = ("We received it. We will review your bill and will not ask you to pay it while we do.", "Lo recibimos. Revisaremos su factura y no le pediremos que la pague mientras tanto."),
        ["channels.heading"] = ("How we contact you", "Cómo nos comunicamos con usted"),
        ["channels.email"] = ("Emails about my bill", "Correos electrónicos sobre mi factura"),
        ["channels.sms"] = ("Text messages about my bill", "Mensajes de texto sobre mi factura"),
        ["channels.letters"] = ("We still send letters, as the law requires.", "Seguiremos enviando cartas, como lo exige la ley."),
        ["channels.submit"] = ("Save my choices", "Guardar mis preferencias"),
        ["channels.done"] = ("Your choices are saved.", "Sus preferencias se guardaron."),
        ["message.heading"] = ("Write to the billing office", "Escribir a la oficina de facturación"),
        ["message.text"] = ("Your message", "Su mensaje"),
        ["message.submit"] = ("Send the message", "Enviar el mensaje"),
        ["message.done"] = ("We received your message. A person will answer.", "Recibimos su mensaje. Una persona le responderá."),
        ["payments.heading"] = ("Your recent card payments", "Sus pagos recientes con tarjeta"),
        ["status.Started"] = ("not finished", "sin terminar"),
        ["status.RequiresAction"] = ("waiting for your bank", "esperando a su banco"),
        ["status.Succeeded"] = ("paid", "pagado"),
        ["status.Failed"] = ("declined", "rechazado"),
        ["signout"] = ("Sign out", "Salir"),
        ["error.summary"] = ("Please fix this:", "Por favor, corrija esto:"),
        ["error.form"] = ("This page was open too long. Please try again.", "Esta página estuvo abierta demasiado tiempo. Intente de nuevo."),
        // The engine's refusals in the patient's words (staff see the engine's own).
        ["error.amount.exceeds-balance"] = ("That amount is more than you owe on this bill.", "Esa cantidad es más de lo que debe en esta factura."),
        ["error.amount.more-than-owed"] = ("That amount is more than you owe.", "Esa cantidad es más de lo que debe."),
        ["error.amount.nothing-owed"] = ("You do not owe anything on these bills.", "No debe nada en estas facturas."),
        ["error.amount.precision"] = ("Write the amount in dollars and cents, such as 25.50.", "Escriba la cantidad en dólares y centavos, por ejemplo 25.50."),
        ["choose"] = ("Choose", "Elija"),
    };

    public static string T(string language, string key) =>
        Words.TryGetValue(key, out var w) ? (language == "es" ? w.Es : w.En) : key;

    /// <summary>A refusal as the patient reads it: in their words and language where the page has them, else the engine's message.</summary>
    public static string Error(string language, Collections.Domain.DomainError error) =>
        Words.ContainsKey("error." + error.Code) ? T(language, "error." + error.Code) : error.Message;

    /// <summary>A date as the page writes it everywhere: "November 1, 2026" or "1 de noviembre de 2026".</summary>
    public static string Date(string language, DateOnly date) =>
        date.ToString(language == "es" ? "d 'de' MMMM 'de' yyyy" : "MMMM d, yyyy", System.Globalization.CultureInfo.GetCultureInfo(language == "es" ? "es-US" : "en-US"));

    public static string T(string language, string key, params object[] args) =>
        string.Format(System.Globalization.CultureInfo.GetCultureInfo(language == "es" ? "es-US" : "en-US"), T(language, key), args);
}
