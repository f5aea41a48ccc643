#include "policy/report_lexicon.hpp"

#include <algorithm>

namespace flare::policy {

namespace {

constexpr auto security = incident_kind::security;
constexpr auto people = incident_kind::people_and_safety;

// Word groups shared by several categories (pattern alternatives, see report_lexicon.hpp).
const std::string device =
    "laptop|laptops|macbook|notebook|thinkpad|computer|pc|phone|iphone|smartphone|mobile|ipad|tablet|yubikey|"
    "securitykey|token|usb|drive|harddrive|device|devices|authenticator|smartcard|fob";
const std::string lost_words =
    "lose|lost|misplac*|missing|forgot|drop|dropped|fell|fall|nicked|steal|stolen|stole|snatched|theft|gone|"
    "took|taken";
const std::string body =
    "ankle|wrist|knee|back|head|hand|finger|fingers|foot|feet|toe|arm|leg|shoulder|neck|eye|nose|rib|ribs|"
    "hip|"
    "myself|himself|herself|themselves";
const std::string secret_words =
    "password|passwords|passwd|credential*|creds|secret|secrets|token|tokens|apikey|key|keys|privatekey|"
    "certificate|"
    "cert|passphrase|2fa|otp|backup|webhook|webhooks|dsn";
const std::string person_words =
    "someone|somebody|colleague|coworker|co-worker|manager|boss|lead|supervisor|director|he|she|they|him|guy|"
    "man|"
    "woman|customer|client|employee|person";

}  // namespace

report_lexicon default_report_lexicon() {
  report_lexicon lx;
  // Response policy, "Incident Detection": "security incidents, physical injury, theft, property
  // damage, denial of service attacks, threats, harassment, abuse of individual user accounts,
  // forgery and misrepresentation", and the suspicious activities employees watch for. Security
  // categories come first: on a tie the first recognised one names the kind.
  lx.categories = {
      {"phishing",
       security,
       false,
       {{"phish*|smish*|vish*|quish*|pishing|pretexting", 1},
        {"social engineer*", 1},
        {"credential harvest*", 1},
        {"fall|fell for", 1},
        {"scam|scams|scammer*|scammy", 1},
        {"fake|spoof*|spoofed|lookalike|look-alike|bogus|fraudulent|malicious|counterfeit ... "
         "email|emails|mail|link|links|site|page|website|domain|sender|message|text|sms|login|attachment|url|"
         "qr|call|"
         "caller|voicemail|docusign|invoice",
         1},
        {"suspicious|weird|strange|odd|sketchy|dodgy|shady|fishy|unusual|unexpected|suspect|unknown ... "
         "email|emails|mail|link|links|domain|sender|message|text|sms|attachment|url|qr|call|caller|"
         "voicemail|dm",
         1},
        {"pretend*|posing|pose|poses|claim*|purport*|impersonat*|masquerad* & "
         "email|mail|call|called|calls|phone|phoned|text|sms|message|link|website|site|page|voicemail|"
         "whatsapp|"
         "teams|dm|reception|helpdesk|support|it",
         1},
        {"type|typed|enter|entered|gave|give|put|submitted|provided|filled ... "
         "password|credential*|creds|login|sso|code|codes|mfa|otp|2fa|details",
         0.6},
        {"look|looked|looks|looking like|copy ... login|sign|page|site|portal|okta|microsoft|google|office",
         0.5},
        {"click|clicked|opened|open|scan|scanned ... link|attachment|qr|url|button|here", 0.5},
        {"mailbox|inbox|storage|quota ... full|exceeded|limit|upgrade", 0.6},
        {"ask|asked|asking|asks|wants|wanted|request* ... password|credential*|creds|mfa|otp|code|login|"
         "wifi|card|details|number|favour|favor|employee|approve|install|remote|sign|signin|log",
         0.5},
        {"said|says|claimed|claims he|she|they|it was|were|is|are from", 0.5},
        {"caller|called|phoned|rang|phone|voicemail|whatsapp|teams", 0.3},
        {"verify|confirm|validate|re-validate|revalidate|update ... "
         "account|identity|credential*|mailbox|password|"
         "details|login|payroll",
         0.5},
        {"account|mailbox|password|access ... suspend*|expire*|expires|expiring|deactivat*|blocked|lose",
         0.5},
        {"reply-to|replyto|sender|domain ... gmail|external|spoofed|different|lookalike|outlook|hotmail",
         0.6},
        {"macro|macros & enable|enabled", 0.6},
        {"short|shortened link", 0.5},
        {"urgent|urgently|asap", 0.2},
        {"beware|careful", 0.5},
        {"order|parcel|package|delivery|payment|account|subscription ... "
         "cancelled|canceled|suspended|failed|held|hold|"
         "problem|declined",
         0.5},
        {"looks|seems|looked|smells dodgy|sketchy|fishy|shady|suspicious|off|fake|weird|phishy", 0.5},
        {"going around", 0.4},
        {"circulating", 0.4},
        {"calendar|meeting invite|invitation", 0.4},
        {"reset|enter|update|change ... password|credentials ... site|page|link|form|external", 0.5},
        {"external|unknown|outside & account|sender|user|contact|guest|tenant|address|number", 0.5},
        {"html|htm|iso|zip|exe|lnk|scr|js attachment|file", 0.5},
        {"watch out", 0.5},
        {"dont|don't click|open", 0.5},
        {"do not click|open", 0.5},
        {"email|mail|message|text|sms|call|dm & "
         "pretending|claims|claiming|impersonating|posing|purporting|supposedly",
         0.6}}},
      {"malware or ransomware",
       security,
       false,
       {{"ransom*|malware|malwares|trojan*|keylogger*|spyware|adware|rootkit*|cryptominer*|cryptojack*|xmrig|"
         "infected|infection|worm",
         1},
        {"virus|viruses", 1},
        {"encrypt*|renamed|locked|crypt & "
         "files|file|drive|disk|server|nas|share|documents|folders|extension*|data",
         1},
        {"pay|payment|paid|send ... bitcoin|btc|crypto|monero", 1},
        {"popup*", 0.4},
        {"pop|pops|popped|popping up", 0.4},
        {"redirect*|hijack* & browser|search|searches|visitors|site|extension", 0.6},
        {"install* & itself|own|without|unknown|didnt|nobody|not", 0.6},
        {"remote access|control|desktop tool|software|app|program|trojan", 0.5},
        {"lockbit|conti|ryuk|revil|blackcat|akira|wannacry|petya|notpetya|clop|maze|emotet|qakbot|cobalt", 1},
        {"note|file|message|instructions ... telling|tells|asks|contact|pay|recover|decrypt", 0.5},
        {"quarantin*", 0.8},
        {"antivirus|defender|edr|av|firewall|crowdstrike|sentinelone & "
         "disabled|off|stopped|uninstalled|removed|turned",
         1},
        {"program|process|app|software|binary ... connects|connecting|beacon*|phones|calls", 0.5},
        {"mining|miner|mine & crypto|coin|bitcoin|monero|cpu|nodes", 0.9},
        {"usb|stick ... found|parking|plugged", 0.5},
        {"powershell|macro|script|process|binary|executable ... "
         "suspicious|malicious|unknown|weird|strange|encoded",
         0.7},
        {"suspicious|malicious|unknown|weird|strange|encoded ... powershell|process|binary|executable|script",
         0.7},
        {"acts|acting|behaves|behaving strange*|weird*|odd*", 0.6},
        {"cracked|pirated|warez", 0.5},
        {"running|runs|started & something|background|itself|unknown", 0.5},
        {"attachment|attachments|macro|file & open|opened|opening|enabled|ran|run", 0.5}}},
      {"exposed credentials",
       security,
       false,
       {{secret_words +
             " & leak|leaked|leaking|leaks|expos*|commit|committed|push|pushed|posted|pasted|paste|"
             "publish*|public|github|gitlab|bitbucket|repo|repository|gist|plaintext|plain|hardcod*|"
             "hard-coded|logs|log|shared|sent|emailed|slack|channel|jira|ticket|confluence|wiki|sticky|"
             "written|stolen|steal|stole|compromis*|dump|pwned|breach*|visible|printed|readable",
         1},
        {"gitguardian|trufflehog|secretscanning", 0.8},
        {"secret scanning", 0.8},
        {"haveibeenpwned|hibp|pwned", 0.8},
        {"access|api|ssh|private|deploy|signing key|keys", 0.4},
        {"password|passwords manager|managers|vault|policy|rotation|requirements|rules", -0.6},
        {"client secret", 0.4},
        {"reuse|reused ... password", 0.5}}},
      {"lost or stolen device",
       security,
       false,
       {{lost_words + " & " + device, 1.2},
        {"left|forgot|forgotten & " + device, 0.8},
        {"cant|cannot|can't|unable find|locate & " + device, 1.2},
        {device +
             " ... "
             "train|taxi|cab|uber|bus|airport|cafe|bar|pub|plane|flight|restaurant|hotel|gym|car|station",
         0.3}}},
      {"suspicious login",
       security,
       false,
       {{"mfa|2fa|duo|authenticator|push|pushes|prompt|prompts|verification|otp|code|codes|approve|approved "
         "& "
         "didnt|not|never|wasnt|unexpected*|unrequest*|random*|keep|keeps|kept|repeated*|asleep|without|"
         "someone|"
         "row|trigger|triggered|accidentally|accidentaly|accidently",
         0.8},
        {"mfa|2fa|duo|authenticator|push|prompt|prompts|verification|otp|code|codes", 0.3},
        {"login|logins|logged|log|sign|signin|signed|session|sessions|logon & "
         "unknown|unrecogni*|foreign|country|location|impossible|unusual|suspicious|strange|weird|russia|"
         "china|"
         "brazil|ip|abroad|asleep|3am|night",
         1},
        {"wasnt|not me", 0.6},
        {"root|admin|administrator & account|login|logged|signin|console", 0.4},
        {"password|email|settings|mfa|recovery|phone ... changed|reset|removed|added", 0.5},
        {"didnt|wasnt|never|not ... change|changed|request|ask|do|initiate|make|trigger|it", 0.5},
        {"admin|console|panel|portal & accessed|logged|login|signed", 0.4},
        {"tor|vpn|proxy|4am|3am|2am|midnight", 0.3},
        {"we|i dont|don't|never use|recogni*|know", 0.3},
        {"session|sessions|device|devices|login|logins ... dont|not|never|didnt ... "
         "own|recogni*|know|use|authori*",
         1},
        {"login|logins|session|sign|signin|logon ... didnt|not|never "
         "start|started|initiate*|trigger*|request*|make|made",
         1},
        {"impossible travel", 1},
        {"mfa|push|prompt fatigue|bombing|spam|spamming", 1},
        {"new|unknown|unrecogni* sign|signin|login|device|session", 0.5},
        {"someone|somebody ... log|logged|logging|sign|signed|signing ... into|in", 0.6}}},
      {"unrequested password reset",
       security,
       false,
       {{"password|reset ... reset|password|recovery ... "
         "email|mail|link|notification|notifications|code|message|"
         "text|sms|notice|request",
         1},
        {"reset|recovery ... never|didnt|not|nobody|unrequest*|unexpected|someone", 0.5}}},
      {"repeated login failures or lockouts",
       security,
       false,
       {{"fail|failed|failing|failure|failures|unsuccessful|invalid|wrong & "
         "login|logins|log|sign|signin|attempt|attempts|password|passwords|auth*|authentication",
         1},
        {"lock|locked|locks|locking out", 1},
        {"lockout|lockouts", 1},
        {"account|accounts|keeps|getting|got locked|locking", 1},
        {"bruteforce|bruteforcing", 1},
        {"brute force|forcing|forced", 1},
        {"password spray*", 1},
        {"credential* stuffing", 1},
        {"dictionary attack", 1}}},
      {"data visible to the wrong party",
       security,
       false,
       {{"went|send|sent|email|emailed|mail|mailed|forward*|shar*|post*|upload*|cc ... "
         "wrong|incorrect|unintended|"
         "external|outside",
         1},
        {"wrong|incorrect|unintended ... "
         "person|recipient|recipients|customer|client|address|people|party|contact",
         0.6},
        {"mistake|accidentally|accidently|accidentaly|mistakenly|inadvertently|unintentionally", 0.4},
        {"see|sees|visible|view|viewing|access|read|expos*|show|shows|showing|shown|display*|listed|appear* "
         "& "
         "other|others|another|wrong|else|tenants|tenant",
         0.6},
        {"customer|customers|user|users|tenant|tenants|client|clients|patient|patients|candidate|candidates|"
         "employee|employees|salary|salaries|payroll|hr|health|medical|personal|invoices|orders|records|"
         "tickets|"
         "cvs|data",
         0.4},
        {"cc ... bcc", 1},
        {"anyone with the link", 1},
        {"everyone|mailing|whole|entire|external & shared|sent|visible|emailed|went", 0.5},
        {"data leak|leaked|breach", 1},
        {"leaked data", 1},
        {"privacy|gdpr breach", 1},
        {"change|changing|changed ... id ... url", 0.6},
        {"should not|shouldnt ... access|see|view|visible|read", 1},
        {"ended|end up", 0.5},
        {"went|sent|emailed|shared|forwarded ... to ... "
         "client|customer|external|vendor|partner|supplier|candidate",
         0.4},
        {"receiv*|got|get & else|elses|wrong|another", 0.6},
        {"vendor|third|external|contractor|partner|supplier", 0.2}}},
      {"exposed storage",
       security,
       false,
       {{"bucket|buckets|s3|gcs|blob|container|storage|elasticsearch|elastic|mongo*|redis|database|db|backup|"
         "backups|"
         "index|kibana|folder|share|nas|ftp|sftp|cluster|instance|terraform|tfstate|state|snapshot|dump|repo|"
         "repository|"
         "repositories|dashboard|jenkins|grafana & "
         "public|publicly|anonymous*|internet|world|unauthenticated|allusers|listable|exposed|shodan|"
         "reachable|open",
         1},
        {"without|no auth*|password|authentication|login", 0.3}}},
      {"denial of service",
       security,
       false,
       {{"ddos|botnet", 1},
        {"dos attack", 1},
        {"denial of service", 1},
        {"flood|flooded|flooding|hammer*|overwhelm*|bombard*|spike|surge & "
         "request|requests|traffic|packet|packets|connection|connections|endpoint|api|server|servers|site|"
         "website",
         1},
        {"site|website|api|service|app|endpoint ... "
         "down|offline|unreachable|unavailable|timing|timeout|timeouts",
         0.4},
        {"millions|thousands|hundreds ... requests|ips|connections", 0.6}}},
      {"physical security",
       security,
       false,
       {{"tailgat*|piggyback*", 1},
        {"follow*|behind|slipped|snuck|sneaked & badge|door|gate|turnstile|entrance|building|office", 0.6},
        {"without|no ... badge|pass|escort|visitor", 0.8},
        {"stranger|strangers|intruder|intruders|trespass*", 0.8},
        {"someone|somebody|person|man|woman|guy|people & dont|didnt|not|never & recogni*|know", 0.6},
        {"after hours", 0.2},
        {"overnight|weekend|night", 0.2},
        {"office|building|floor|premises|desk", 0.2},
        {"unknown|unescorted|unfamiliar & "
         "person|man|woman|guy|people|visitor|visitors|someone|somebody|wandering|walking|office|floor|"
         "building|"
         "room|premises",
         1},
        {"room|datacenter|datacentre|comms|closet|cupboard|rack|cage|door|doors|exit|gate|window & "
         "unlocked|unlock|propped|open|doesnt|broken|disabled|wide",
         1},
        {"lose|lost|missing|stolen|steal & badge|badges|keycard|keycards|fob", 1},
        {"badge|badges|keycard|card & cloned|fake|copied|borrowed|someone", 0.8},
        {"tried|trying|attempted to get|break|enter|force ... in|into|door|office|building", 0.5},
        {"photograph*|filming|photos|pictures & whiteboard*|screen*|badge*|office|window", 0.6},
        {"badge|keycard ... shared|borrowed|lent|cloned|copied", 0.6}}},
      {"payment-change fraud",
       security,
       false,
       {{"bank|banking|iban|account|payment|routing|remittance|details|wire & "
         "change|changed|changing|new|update|updated|updating|different|redirect|redirected|switch|another|"
         "other",
         0.6},
        {"supplier|vendor|landlord|invoice|invoices|payroll|salary|finance|rent|payment|pay|wire|transfer",
         0.4},
        {"wire|transfer|pay ... urgent|urgently|asap|immediately|today|new", 0.6},
        {"gift card|gift cards|giftcards", 0.8},
        {"fraud|fraudulent", 0.6}}},
      {"antivirus warning",
       security,
       false,
       {{"antivirus|antimalware|av|defender|crowdstrike|sentinelone|edr|sophos|mcafee|norton|symantec|"
         "malwarebytes|falcon & "
         "warn|warned|warning|warnings|alert|alerted|alerts|flag|flagged|quarantin*|detect*|found|block|"
         "blocked|"
         "popup|pop|popped|scream*|says|said|report|reports",
         1},
        {"virus|malware|threat warning|alert|detected|found", 1},
        {"antivirus", 0.6}}},
      {"unexpected reboot",
       security,
       false,
       {{"reboot*|restart*|shutdown|shutting|shut|cycled & "
         "unexpected*|itself|own|random*|unplanned|unscheduled|unannounced|suddenly|twice|again",
         1},
        {"reboot*|restart*|shutdown|shutting|cycled", 0.5},
        {"no|nobody|without|wasnt|werent|nothing ... planned|scheduled|maintenance|change|changes", 0.5}}},
      {"sudden performance degradation",
       security,
       false,
       {{"slow|slower|slowly|slowdown|sluggish|lag|laggy|degrad*|cpu|disk|disks|memory|fan & "
         "suddenly|sudden|spike|spiking|spikes|100|reason|extremely|unusual|unexplained",
         1},
        {"performance degrad*", 1},
        {"degraded performance", 1}}},
      {"website modification or defacement",
       security,
       false,
       {{"defac*", 1},
        {"hacked by", 1},
        {"website|site|homepage|page|blog|landing|status & "
         "modified|changed|altered|vandali*|replaced|content|message",
         0.5},
        {"political|hacked|weird|strange|someone|flag|ours", 0.5},
        {"didnt write", 0.5}}},
      {"new open network port",
       security,
       false,
       {{"port|ports & open|opened|listening|exposed|new|3389|rdp|22|nmap|scanner|scan", 1}}},
      {"insider data theft",
       security,
       true,
       {{"copy|copying|copied|download*|export*|forward*|upload*|clone|cloned|cloning|emailed|sending|sent|"
         "sync*|"
         "transfer*|steal|stolen|stole|took|taking & "
         "personal|gmail|hotmail|yahoo|dropbox|usb|harddrive|competitor|own|private|home",
         0.9},
        {"leaving|departing|resigned|quit|quitting|former|competitor|notice", 0.3},
        {"database|customer|customers|client|clients|contacts|files|documents|code|repos|repo|source|list|"
         "pricing|"
         "confidential",
         0.2}}},
      {"account abuse",
       security,
       true,
       {{"misus*|hijack*|takeover", 1},
        {"logged|log|logs|logging into|in ... my laptop|computer|account|email|mailbox|machine|slack", 0.6},
        {"account abuse", 1},
        {"abus* ... account", 1},
        {"took|taken over ... account", 1},
        {"compromised account", 1},
        {"as me", 1},
        {"read|reading|going|gone|snooping|accessed|looked & through|my & "
         "dms|messages|emails|chats|inbox|files|phone",
         0.6},
        {"in my name", 1},
        {"to be me", 1},
        {"impersonat* me", 1},
        {"someone|somebody|another|colleague|coworker|ex|partner|hacker|person & my & "
         "account|slack|email|mailbox|login|profile|chats|credentials|password",
         0.7},
        {"used|using|logged|logs|logging|posting|posts|sent|reads|accessed|accessing|changed|deleted|knows|"
         "hacked & "
         "someone|somebody|another|colleague|coworker|ex|partner|he|she|they|hacker|person",
         0.3},
        {"hacked|compromised & account", 0.6}}},
      {"forgery or misrepresentation",
       security,
       true,
       {{"forge|forged|forgery|forgeries|forging|counterfeit|doctored|falsif*|tampered|misrepresent*|"
         "impersonat*",
         1},
        {"ceo fraud", 1},
        {"whaling|bec", 1},
        {"business email compromise", 1},
        {"fake|bogus & profile|account|website|site|invoice|document|signature|certificate|diploma|order|"
         "po|id|contract|logo",
         0.7},
        {"pretend*|posing|poses|claim*|purport* ... ceo|cfo|cto|coo|director|boss|manager|founder|president|"
         "executive|auditor",
         1},
        {"signed my name", 1},
        {"put|used|using|uses my name|signature", 0.6},
        {"pretend*|posing|poses|claim*|purport* ... our company|firm|organisation|organization|us|team", 0.6},
        {"never|didnt|not approve|approved|authorised|authorized|signed|consent", 0.3},
        {"signature ... not|altered|fake|forged|isnt", 1},
        {"my signature", 0.5},
        {"from the|our ceo|cfo", 0.6},
        {"fake|spoof*|lookalike|counterfeit & domain|domains|site|website|name|brand|logo", 0.6},
        {"our|company name|brand|logo|trademark", 0.2},
        {"edited|altered|modified|changed|manipulated & "
         "receipt*|invoice*|amounts|document*|contract*|signature|"
         "expense*|figures|records|timesheet*",
         0.45},
        {"look|looks|looked|seem|seems|suspicious|fake|doctored", 0.3}}},
      {"physical injury",
       people,
       true,
       {{"injur*|hurt|bleed|bleeding|blood|sprain*|fracture*|concussion|bruise*|bruising|wound*|unconscious|"
         "fainted|faint|collaps*|ambulance|paramedic*|stitches|electrocut*|suicid*|selfharm|overdose",
         1},
        {"twist*|break|broke|cut|burn|burned|burnt|bruis*|bang*|bump*|hit|bash*|crush*|pinch*|caught|jam*|"
         "smash* & " +
             body,
         1},
        {"cant|cannot|couldnt get up|move|walk|stand|breathe", 1},
        {"fell|fall|slip|slipped|trip|tripped|stumbl* & "
         "someone|somebody|colleague|coworker|he|she|i|visitor|worker|"
         "guy|man|woman|person",
         0.5},
        {"fell|fall|slip|slipped|trip|tripped|stumbl* & "
         "stairs|steps|floor|ladder|ice|icy|wet|cable|cables|chair|down|over|off|bike",
         0.8},
        {"first aid", 0.7},
        {"shock|shocked|scald*|boiling|electric", 0.7},
        {"pain|painful|ache|aches|sore|hospital|doctor", 0.6},
        {"accident", 0.5},
        {"ankle|wrist|knee|head|hand|finger|fingers|foot|feet|toe|arm|leg|shoulder|neck|eye|nose|rib|ribs|"
         "hip|face|back",
         0.3},
        {"dropped|fell|fall|hit|cut|burn|burned|slipped|tripped|twisted|crushed|banged|bumped|landed|trapped|"
         "stuck|jammed|"
         "stung|bitten",
         0.3},
        {"allergic|reaction|epipen|swollen|swelling|dizzy|ambulance|hospital|doctor|medic|nurse|concussed|"
         "seizure|choking|unwell|sick|emergency",
         0.5},
        {"self harm|harming myself|harming himself|harming herself", 1},
        {"end|ending|take|taking their|his|her|my|own life", 1}}},
      {"theft",
       people,
       true,
       {{"steal|stolen|stole|theft|thief|thieves|robbed|robbery|burglar*|burgled|nicked|pinched|shoplift*|"
         "pickpocket*|snatched|looted|swiped",
         1},
        {"took|taken|taking|missing|disappear*|gone|vanish*|emptied & "
         "wallet|purse|bag|bike|bicycle|cash|money|projector|monitor|monitors|headphones|package|packages|"
         "parcel|"
         "parcels|equipment|tools|jacket|coat|food|keys|card|cards|delivery|airpods|earbuds|charger|watch|"
         "jewellery|"
         "jewelry|lunch|belongings",
         1},
        // "My password was stolen" is exposed credentials, not theft (issue 8).
        {"password|passwords|credential*|creds|login|identity|token|tokens|secret|secrets|session|cookie|"
         "cookies|"
         "data|account|code|codes & steal|stolen|stole|theft|nicked",
         -1}}},
      {"threat",
       people,
       true,
       {{"threat|threats|threaten*|threatning|threating", 1},
        {"threat detected|found|model|intel*|actor*|level|hunting|landscape|modelling|modeling", -1},
        {"gun|guns|knife|knives|weapon|weapons|explosive|explosives", 0.8},
        {"bomb|bombs", 0.4},
        {"a|an ... bomb", 0.6},
        {"kill|shoot|shot|stab|strangle|murder", 0.4},
        {"kill|shoot|stab|hurt|beat|murder ... you|me|him|her|us|them|everyone|everybody", 1},
        {"assault*|assualt*|punch|punched|punching|slap|slapped|shoved|beaten|violent|violence", 1},
        {"hit|kicked|pushed|grabbed|attacked & me|him|her|colleague|someone", 0.6},
        {"fight|fights|fighting|brawl", 0.4},
        {"fight|fights|fighting|brawl & "
         "people|guys|two|colleagues|coworkers|someone|physical|broke|between|staff",
         0.6},
        {"blow|blowing up", 0.8},
        {"burn down", 0.8},
        {"smash ... up|place", 0.8},
        {"make us|you|me|them pay|suffer", 1},
        {"regret ... it|this|firing|what", 0.8},
        {"watch your|my back", 1},
        {"know* where ... live", 1},
        {"you|youre are dead", 1},
        {"settle the score", 1},
        {"teach ... lesson", 1},
        {"if i|you|we complain|report|tell|speak", 0.5},
        {"see what happens", 0.8},
        {"revenge|payback|retaliat*", 0.8},
        {"get back at", 0.8},
        {"come|coming after", 0.8},
        {"with his|her|their friends|mates|gang|buddies", 0.4},
        {"hurt|harm ... him|her|them|you|us|ceo|family|someone", 0.6},
        {"better watch|careful|run|hide", 0.8},
        {"anonymous ... message|note|letter|email|call|caller", 0.3},
        {"pay for what", 1},
        {"coming for me|you|us", 1},
        {"blackmail*|extort*|sextort*", 1},
        {"make|makes my|your|his|her|our life hell|miserable|difficult", 1},
        {"if ... report ... will|gonna|going", 0.6},
        {"or else", 0.6},
        {"unless|if ... pay", 0.7},
        {"will|would|gonna|going ... hurt|come|waiting|get", 0.4},
        {"get|gets me|you|us ... after|outside|later|tonight", 0.8}}},
      {"harassment",
       people,
       true,
       {{"harass*|harras*|bully|bullies|bullying|bulling|stalk*|intimidat*|discrim*|grope|groped|groping|"
         "molest*|"
         "doxx*|doxed|doxing|catcall*|upskirt*|"
         "victimi*|mobbing|gaslight*",
         1},
        {"sexual|sexually|inappropriate*|unwanted|unwelcome|creepy|creep|flirty|flirt*|lewd|explicit|nude|"
         "nudes|"
         "obscene|perv*",
         0.7},
        {"touch|touched|touching|touches|grab|grabbed & me|inappropriate*|keeps|without", 1},
        {"comment|comments|commenting|remarks|jokes ... "
         "body|weight|looks|appearance|clothes|religion|race|age|"
         "accent|skin|hair|headscarf|pregnan*|disability|gender|sexuality",
         1},
        {"racist|racism|racial|slur|slurs|sexist|sexism|homophob*|transphob*|misogyn*|ableist|xenophob*|"
         "antisemit*|islamophob*|n-word",
         1},
        {"keep|keeps|kept", 0.4},
        {"wont|doesnt|didnt stop", 0.4},
        {"even after", 0.4},
        {"asked|told him|her|them|me to stop", 0.4},
        {"messag*|call|calls|calling|text|texts|texting|dms|pictures|photos & me", 0.2},
        {"ask|asked|asking|asks me out", 0.9},
        {"hitting|hits|hit on me", 0.9},
        {"follow|follows|followed|following|waits|waiting ... me|home|station|car|everywhere|around", 0.6},
        {"yell*|scream*|shout*|swear* ... at me|us", 1},
        {"call|calls|called|calling me ... "
         "stupid|idiot|names|slur|useless|fat|ugly|bitch|sweetheart|honey|babe|"
         "darling",
         1},
        {"mock|mocks|mocked|mocking|ridicul*|humiliat*|belittl*|demean*|insult*|laugh|laughs|laughed|exclud*|"
         "ostraci*|shun*",
         0.7},
        {"make|made|makes|making fun", 0.7},
        {"uncomfortable|unsafe|scared|afraid|frightened|creeped", 0.6},
        {"left|leave out", 0.3},
        {"talked|talk over", 0.3},
        {"sidelined|overlooked|ignored", 0.3},
        {"dont|not|never feel|feeling safe|comfortable", 0.7},
        {"revenge porn", 1},
        {"intimate|private|nude|naked images|photos|pictures|videos", 1},
        {"home|personal|private address|number ... online|posted|shared|leaked|published", 0.8},
        {"because ... "
         "gay|woman|women|pregnant|age|religion|race|black|muslim|jewish|disab*|accent|skin|female|"
         "male|trans|older|young|mother|mom|ethnicity|nationality",
         0.8},
        {"treated differently", 0.6},
        {"passed over", 0.6},
        {"promot* & not|wont|never", 0.6},
        {"women|girls shouldnt", 1},
        {"women|girls should not", 1},
        {"hostile|toxic ... work*|environment|manager|team|behaviour|behavior", 0.6},
        {"treat|treats|treated|treating me|us", 0.5},
        {"photo|photos|picture|pictures|video|image|images of me", 0.6},
        {"rude|mean|insulting|humiliating caption|comment|comments|names|remarks", 0.4},
        {"afraid|dread*|dont want ... go|come ... office|work", 0.3},
        {"pressur*|coerc* & me|drinks|date|dinner|alone|out", 0.6},
        {"hateful|hate|abusive|nasty|offensive|degrading|vile|disgusting & "
         "message|messages|comment|comments|remarks|"
         "notes|emails|texts|jokes",
         0.8},
        {"religion|race|gender|sexuality|disability|ethnicity|nationality|pregnancy|stutter|accent|weight",
         0.3},
        {"innuendo*|advances|propositioned|suggestive", 0.8},
        {"rumour*|rumor*|gossip*", 0.6},
        {"staring|stares|stared|ogling", 0.5},
        {"hand|hands on my|me", 0.8},
        {"put|puts|putting his|her hand|hands", 0.8},
        {"abuse|abusive|verbal|verbally", 0.6},
        {"personal|private number|phone", 0.4}}},
      {"property damage",
       people,
       false,
       {{"damage|damaged|damaging|vandal*|smashed|shattered|wrecked|graffiti|spray*|scorched|destroyed", 1},
        {"broke|broken|break|kicked|crashed|burst|leak|leaked|leaking|flood|flooded|fire|burning|smoke|"
         "water & "
         "window|windows|door|glass|pipe|ceiling|wall|floor|room|switches|kitchen|cabinets|car|gate|roof|"
         "counter|"
         "building|entrance|office|bay",
         1}}},
      {"sensitive",
       people,
       true,
       {{"sensitive|confidential|discreet*|privately", 0.5},
        {"in private", 0.5},
        {"dm|call|contact me", 0.4},
        {"talk|speak privately", 0.4}}},
      {"suspicious activity",
       security,
       false,
       {{"hack|hacked|hacker|hackers|hacking|compromis*|breach|breached|intrusion|intruder|unauthori*|"
         "exploit*|backdoor|pwned|attack|attacked|attacker|attackers|vulnerab*|vuln|vulns|xss|rce|csrf|ssrf|"
         "sqli|0day|zeroday|webshell",
         1},
        {"suspicious|weird|strange|odd|unusual|unknown|unexpected|unfamiliar|sketchy|fishy & "
         "activity|process|user|users|account|accounts|file|files|traffic|connection|connections|behaviour|"
         "behavior|"
         "changes|change|login|settings|admin|going|instance|instances|vm|vms|resources|charges|container|"
         "containers|"
         "software|app|apps|program|extension|device|devices|email|emails",
         1},
        {"deleted|moved|changed|modified|disappeared|disappearing|vanish* & "
         "files|settings|rules|config|configuration|logs|records|users|permissions",
         0.5},
        {"someone|somebody|itself|nobody|unknown", 0.3},
        {"sql|command|code injection", 1},
        {"cve", 0.6},
        {"bug bounty|security researcher|responsible disclosure", 1},
        {"missing|gap|gaps|deleted|cleared|wiped ... log|logs|logging", 1},
        {"log|logs|logging ... missing|gap|gaps|deleted|cleared|wiped|stopped", 1},
        {"someone|somebody ... in|into|accessed|on my laptop|computer|machine|files", 0.6}}},
  };

  lx.negators = {"not",   "no",     "never", "nobody", "noone",   "nothing", "none",
                 "isnt",  "wasnt",  "arent", "werent", "dont",    "doesnt",  "didnt",
                 "hasnt", "havent", "hadnt", "aint",   "neither", "nor"};
  lx.negation_fillers = {"a",       "an",    "the",  "any",      "really", "actually",   "real",  "just",
                         "exactly", "some",  "even", "was",      "were",   "is",         "are",   "be",
                         "been",    "being", "got",  "get",      "one",    "seriously",  "badly", "at",
                         "all",     "yet",   "ever", "anything", "really", "physically", "like"};
  lx.topic_words = {"training",      "trainings",  "awareness",   "course",     "webinar",    "workshop",
                    "module",        "quiz",       "slides",      "article",    "blog",       "wiki",
                    "documentation", "template",   "policy",      "policies",   "guideline",  "guidelines",
                    "simulation",    "simulated",  "exercise",    "drill",      "tabletop",   "test",
                    "model",         "prevention", "program",     "programme",  "rollout",    "handbook",
                    "runbook",       "playbook",   "procedure",   "results",    "protection", "presentation",
                    "newsletter",    "refresher",  "campaign",    "button",     "plugin",     "addin",
                    "feature",       "filter",     "audit",       "postmortem", "retro",      "retrospective",
                    "recovery",      "feed",       "announcement"};
  lx.process_question_patterns = {
      "how do|does|can|should|to|would|long|much|many",
      "where do|can|should|is|are|to",
      "who do|should|can|owns|approves|handles|is|to",
      "what is|are|counts|should ... process|policy|sla|difference|procedure|severity|channel|form",
      "what does|do ... mean",
      "explain|meaning",
      "whats the|our",
      "what counts",
      "is there a|an|any",
      "are there",
      "do we|i need|have",
      "should i|we report|tell|contact|escalate|post|add",
      "can i|we report",
      "can|could someone|anyone explain|share|add|tell",
      "does anyone know",
      "any update|news",
  };
  lx.announcement_words = {"training",   "trainings", "awareness",     "course",     "webinar",
                           "workshop",   "module",    "quiz",          "slides",     "presentation",
                           "drill",      "tabletop",  "exercise",      "simulation", "refresher",
                           "postmortem", "retro",     "retrospective", "runbook",    "playbook",
                           "handbook",   "wiki",      "audit",         "newsletter", "announcement"};
  lx.settled_patterns = {
      "never mind|nevermind|nvm",
      "false alarm|positive",
      "all good|clean|fine",
      "as agreed",
      "my bad",
      "please|pls ignore",
      "ignore this|that|my",
      "reminder|reminders",
      "remember to",
      "make sure to|you|your|everyone",
      "dont|don't forget",
      "please use|remember|lock|report|avoid",
      "will replace|fix|repair|upgrade",
  };
  lx.hypothetical_patterns = {
      "what|how|who|where ... if|when|whenever|case",
      "what if",
  };
  lx.personal_patterns = {
      "me",
      "my",
      "mine",
      "myself",
      "our",
      "ours",
      "us",
      "i|we clicked|opened|entered|typed|received|noticed|saw|found|lost|think|just|accidentally|gave|see",
      "i|we have|need|want|wanted|would",
      "i|we sent|shared|posted|emailed|forwarded|published|pushed|committed|uploaded|got",
      // NOLINTNEXTLINE(bugprone-suspicious-missing-comma): one pattern, split for the line length
      "this|these|that email|mail|message|text|link|sms|call|site|page|website|file|attachment|popup|invoice|"
      "request|guy|person|login",
  };
  lx.never_corrected = {"thread", "threads", "random", "attach", "treat",  "treats",  "chief",  "breath",
                        "bleach", "theme",   "thrust", "walled", "stack",  "stalks",  "served", "sever",
                        "spoon",  "phone",   "phones", "mobile", "harbor", "harbour", "locker", "lockers",
                        "looked", "looker",  "posted", "hosted", "costed", "tested",  "tester", "testing",
                        "router", "routed",  "leader", "loaded", "reader", "header",  "mining", "mailed",
                        "failed", "filled",  "killed", "bitten", "button", "better",  "letter", "matter",
                        "latter", "center",  "centre", "server", "sender", "render",  "tender", "member",
                        "number", "summer",  "banker", "backer", "packer", "hacked",  "hacker"};
  return lx;
}

void add_phrases(report_lexicon& lexicon, const std::string& name, const std::vector<std::string>& phrases,
                 bool sensitive) {
  auto it = std::find_if(lexicon.categories.begin(), lexicon.categories.end(),
                         [&](const report_category& c) { return c.name == name; });
  if (it == lexicon.categories.end()) {
    lexicon.categories.push_back(report_category{
        name, sensitive ? incident_kind::people_and_safety : incident_kind::security, sensitive, {}});
    it = std::prev(lexicon.categories.end());
  }
  if (sensitive) it->sensitive = true;
  for (const auto& p : phrases) it->patterns.push_back(weighted_pattern{p, lexicon.threshold});
}

}  // namespace flare::policy
