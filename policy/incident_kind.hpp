// What kind of incident this is: shared by the report recogniser (which proposes one) and the
// obligation checklist (which the kind decides). Response policy, "Incident Detection",
// paragraphs 2–3: security incidents, and people-and-safety ones (injury, harassment, threats)
// that go to the Security Team or the Head of Finance & Operations.
#pragma once

namespace flare::policy {

// `none`: the recogniser found nothing; for the checklist an incident without a kind is a
// security incident (the default of `/incident open`; a responder can change it).
enum class incident_kind { none, security, people_and_safety };

}  // namespace flare::policy
