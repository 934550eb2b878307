"""Topics that are not for children aged 6–12: violence, weapons and dangerous chemicals, self-harm, sexual content
and drugs.

The rules look for *intent* — how to do it, I want to do it, to a person — not for words: "How do volcanoes kill
plants?", "Which gases are poisonous?" and "What is sexual reproduction?" are science questions and pass. Bare
mentions of a dangerous thing are only light signals, which matter when a story frame, a "step by step", or the
turns before them point the same way.
"""

from __future__ import annotations

from engine.safety.rules import Rule, rule

VIOLENCE, WEAPONS, SELF_HARM, SEXUAL, DRUGS = "violence", "weapons_chemicals", "self_harm", "sexual_content", "drugs"
CRIME = "crime"  # stealing, breaking in, hacking: not in the list, but not for a tutor either
BAD_LANGUAGE = "bad_language"
CATEGORIES = (SELF_HARM, VIOLENCE, WEAPONS, SEXUAL, DRUGS, CRIME, BAD_LANGUAGE)

# who asks to act: the child, the tutor, "someone" — not volcanoes, snakes or white blood cells
_ASKING = (
    r"(?:how (?:to|do i|can i|could i|would i|should i|might i|do you|can you|could you|would you|do we|can we|would "
    r"someone|does someone|do people|would a person|does a person|would a kid|do kids|can kids|can a kid|i'?d)|teach me(?: how)? to|"
    r"show me how to|tell me how to|explain how to|steps? to|ways? to|best way to|easiest way to|fastest way to|"
    r"recipe for|instructions (?:for|to|on)|guide to|i want to|i wanna|i'?m going to|i am going to|i'?m gonna|help me|"
    r"how (?:the|a|my|his|her|their) \w+)"
)
_PEOPLE = (
    r"(?:someone|somebody|anyone|anybody|people|(?:a |the )?person|humans?|him|her|them|kids?|(?:a |the )?child|children|"
    r"(?:my|his|her|their|a|the|that) (?:\w+ )?(?:brother|sister|mom|mum|dad|parents?|teacher|friend|classmate|neighbou?r|"
    r"baby|cousin|bully|kid|boy|girl|man|woman|family|pet|dog|cat|hamster)s?|classmates?|teachers?|bull(?:y|ies)|"
    r"everyone|everybody|(?:a |the |my )?(?:dog|cat|puppy|kitten|pet|hamster|bird|animal)s?)"
)
_HARM = (
    r"(?:kill|murder|hurt|stab|shoot|poison|strangle|choke|suffocate|drown|beat(?: \w+)? up|punch|kick|attack|kidnap|"
    r"torture|injure|harm|burn|knock (?:\w+ )?out|make (?:\w+ )?bleed|get back at|break (?:\w+ )?(?:bones?|arms?|legs?|neck))"
)
_WEAPON = (
    r"(?:bombs?|explosives?|pipe ?bombs?|grenades?|molotovs?(?: cocktails?)?|napalm|dynamite|tnt|c-?4|land ?mines?|guns?|"
    r"firearms?|pistols?|rifles?|ammo|ammunition|bullets|weapons?|flame ?throwers?|poisons?|poison(?:ous)? gas|toxic gas|"
    r"deadly gas|nerve (?:gas|agents?)|mustard gas|chlorine gas|ricin|cyanide|arsenic|anthrax|thermite|gunpowder|"
    r"black powder|zip ?guns?|tasers?|pepper spray|shanks?|something (?:that|to) (?:explodes?|blows? up))"
)
_DRUG = (
    r"(?:weed|marijuana|cannabis|pot|joints?|blunts?|cocaine|coke|crack|meth|heroin|fentanyl|lsd|ecstasy|mdma|molly|"
    r"shrooms|magic mushrooms|ketamine|xanax|drugs|vapes?|e-?cigs?|e-?cigarettes?|cigarettes?|cigs|tobacco|nicotine|"
    r"alcohol|beer|vodka|wine|whiske?y|rum|booze|liquor|edibles)"
)

RULES: list[Rule] = [
    # --- self-harm: a caring message, never a lecture -------------------------------------------------------------
    rule("hurt myself", SELF_HARM, r"\b(?:kill(?:ing)?|hurt(?:ing)?|harm(?:ing)?|cut(?:ting)?|burn(?:ing)?|starv(?:e|ing)|hang(?:ing)?|stab(?:bing)?|shoot(?:ing)?|poison(?:ing)?|punish(?:ing)?) (?:my ?self|meself)\b"),
    rule("suicide", SELF_HARM, r"\b(?:suicid\w*|self[- ]?harm\w*|end(?:ing)? (?:my|my own) life|tak(?:e|ing) my (?:own )?life|end(?:ing)? it all|kms)\b", unless_before=r"\bcell(?:ular)?|\bprogrammed"),
    rule("want to die", SELF_HARM, r"\bi (?:really )?(?:want|wanna|wish|would like|am going|'m going|plan|need) (?:to )?(?:die|be dead|not be alive|not exist|not wake up|disappear forever|go to sleep forever)\b"),
    rule("stop living", SELF_HARM, r"\bi (?:really )?(?:want|wanna|would like|need|am going) to (?:stop living|stop existing|not be here anymore|not be here any more|be gone forever|vanish forever|sleep forever)\b"),
    rule("wish dead", SELF_HARM, r"\bi wish (?:i was|i were|i'd|i had) (?:dead|never (?:been )?born|gone forever)\b"),
    rule("don't want to live", SELF_HARM, r"\bi (?:don'?t|do not|dont) want to (?:live|be alive|exist|wake up|be here)(?: anymore| any more)?\b"),
    rule("better off without me", SELF_HARM, r"\b(?:better off (?:dead|without me)|(?:no ?one|nobody|no body) (?:would|will) (?:care|miss me|notice)(?: if i (?:died|was gone|disappeared))?)\b"),
    rule("overdose", SELF_HARM, r"\b(?:overdose (?:on|myself)|(?:how (?:to|do i|can i|do you)|i (?:want to|wanna|will|am going to|'m going to)) overdose|how (?:many|much) (?:pills|tablets|medicine|sleeping pills)\b.{0,40}\b(?:die|dead|kill|not wake up|never wake|overdose))\b"),
    rule("jump off", SELF_HARM, r"\bi (?:want|wanna|am going|'m going|'m gonna|will|might) (?:to )?jump (?:off|from) (?:a|the|my)\b"),
    rule("hate myself", SELF_HARM, r"\b(?:i hate (?:myself|my life|being alive)|i'?m (?:worthless|a waste of space)|everyone hates me and)\b"),
    # --- violence ---------------------------------------------------------------------------------------------
    rule("how to harm a person", VIOLENCE, rf"\b{_ASKING}\b.{{0,25}}\b{_HARM}\b.{{0,25}}\b{_PEOPLE}\b"),
    rule("harm without getting caught", VIOLENCE, rf"\b{_HARM}\b.{{0,40}}\b(?:without (?:getting caught|anyone (?:knowing|noticing|seeing|finding out)|leaving (?:marks|bruises|evidence)|being seen)|and not get (?:in trouble|caught))"),
    rule("i want to harm", VIOLENCE, rf"\bi (?:really )?(?:want|wanna|am going|'m going|'m gonna|will|plan|need) (?:to )?{_HARM}\b.{{0,30}}\b{_PEOPLE}\b"),
    rule("school attack", VIOLENCE, r"\b(?:school shooting|shoot up (?:the|my|a) school|shoot (?:everyone|people|kids)|(?:bring|take|sneak) (?:a |my )?(?:gun|knife|weapon)s? (?:to|into) (?:school|class))\b"),
    rule("stop breathing", VIOLENCE, r"\bmake (?:someone|somebody|a person|people|him|her|them|my \w+) (?:stop breathing|pass out|faint|bleed|choke)\b"),
    rule("torture animals", VIOLENCE, r"\b(?:torture|hurt|kill|poison|drown) (?:a |the |my )?(?:cats?|dogs?|puppy|kittens?|pets?|hamsters?|animals?)\b.{0,20}\b(?:for fun|how|ways?)\b|\bways? to (?:torture|hurt|kill) (?:a |the |my )?(?:cats?|dogs?|pets?|animals?)\b"),
    rule("beat someone up", VIOLENCE, rf"\b{_ASKING}\b.{{0,25}}\b(?:beat|knock|punch|push|trip|smack|slap) (?:someone|somebody|people|him|her|them|a kid|kids|my [\w']+|a \w+) (?:up|out|down|hard)\b"),
    rule("harm without marks", VIOLENCE, r"\b(?:hurt|hit|beat) (?:someone|somebody|people|a person)\b.{0,20}\bwithout leaving\b"),
    # --- weapons and dangerous chemicals ----------------------------------------------------------------------
    rule("how to make a weapon", WEAPONS, rf"\b{_ASKING}\b.{{0,30}}\b(?:make|makes|build|builds|create|craft|assemble|cook|brew|mix|produce|get|buy|3d[- ]?print|put together)\b.{{0,30}}\b{_WEAPON}"),
    rule("weapon steps", WEAPONS, rf"\b(?:steps?|recipe|instructions|tutorial|ingredients|formula)\b.{{0,25}}\b(?:for|to make|to build|of|in)\b.{{0,15}}\b{_WEAPON}"),
    rule("buy a weapon", WEAPONS, r"\b(?:where|how) (?:can|do|could) (?:i|a kid|kids) (?:buy|get|find) (?:a |an )?(?:gun|pistol|rifle|knife|weapon|explosives?|grenade)s?\b"),
    rule("make toxic gas", WEAPONS, r"\b(?:i|we|you|someone|somebody|a kid)\b.{0,20}\b(?:mix|combine|make|create|produce|brew)\b.{0,25}\b(?:toxic|poison(?:ous)?|deadly|dangerous|killer|knockout) (?:gas|gases|fumes|smoke|cloud|potion)\b"),
    rule("dangerous mix", WEAPONS, r"\b(?:mix|mixing|combine|combining)\b.{0,20}\bbleach\b.{0,25}\b(?:ammonia|vinegar|acids?|alcohol|cleaners?)\b.{0,60}\b(?:try|want|at home|bathroom|gas|smell|happens if i)\b"),
    rule("household poison gas", WEAPONS, r"\b(?:household|cleaning|kitchen|house) (?:chemicals?|products?|stuff|things)\b.{0,40}\b(?:poison(?:ous)?|toxic|deadly) (?:gas|fumes|smoke)\b|\b(?:which|what) (?:chemicals?|ones|things)\b.{0,40}\bmake (?:a )?(?:poison(?:ous)?|toxic|deadly) (?:gas|fumes)\b"),
    rule("make it explode", WEAPONS, r"\b(?:make|get) (?:a |the |my |our )?(?:school|house|home|car|toilet|building|classroom|bus|person|teacher)\b.{0,10}\b(?:explode|blow up|catch fire|burn down)\b|\b(?:blow up|burn down|set fire to) (?:the|my|a|our|someone'?s) (?:school|house|home|car|building|classroom|bus)\b"),
    rule("lethal dose", WEAPONS, r"\bhow (?:much|many)\b.{0,25}\b(?:poison|arsenic|cyanide|bleach|pills|rat poison|antifreeze)\b.{0,30}\b(?:kill|hurt|poison|make (?:someone|him|her) sick)\b"),
    rule("poison a drink", WEAPONS, r"\b(?:put|slip|sneak)\b.{0,25}\b(?:poison|pills|bleach|drugs)\b.{0,20}\b(?:in|into) (?:someone'?s|his|her|their|my \w+'?s?) (?:drink|food|lunch|water)\b|\bpoison\w*\b.{0,30}\bto put in (?:someone|somebody|his|her|their|my)\b"),
    rule("make food sick", WEAPONS, r"\b(?:put|add)\b.{0,25}\b(?:in|into) (?:my|his|her|their|someone'?s) (?:[\w']+ )?(?:food|drink|lunch)\b.{0,25}\b(?:sick|hurt|ill)\b"),
    # --- sexual content (and a child telling us something worrying) -------------------------------------------
    rule("sex act", SEXUAL, r"\b(?:(?:have|having|had|do|doing) sex|sex (?:with|video|videos|pics?|pictures?|photos?|chat|stories|story|positions?|tape|toys?|feel|feels|is like)|make out with|making out|hook(?:ing)? up with)\b"),
    rule("explicit", SEXUAL, r"\b(?:porn\w*|xxx|nudes?|sexy|horny|erotic\w*|onlyfans|hentai|strip ?clubs?|strippers?|blow ?jobs?|hand ?jobs?|masturbat\w*|orgasm\w*|boobs|tits|dick pics?|adult (?:videos?|movies?|websites?|sites?|content))\b"),
    rule("naked", SEXUAL, r"\b(?:naked|nude) (?:pictures?|pics?|photos?|videos?|selfies?|girls?|boys?|women|woman|men|man|people|person|bodies|body)\b|\b(?:show|send|describe) (?:me )?(?:a |an )?(?:naked|nude)\b"),
    rule("private parts", SEXUAL, r"\b(?:touch|touched|touching|show|showed|see|saw|send)\b.{0,10}\b(?:my|your|his|her|their) (?:privates|private parts|private area|private places?|genitals)\b"),
    rule("make out", SEXUAL, r"\bhow (?:do|to|can) (?:you |i |people )?make out\b"),
    rule("be my partner", SEXUAL, r"\b(?:be|become) my (?:girlfriend|boyfriend|wife|husband|lover)\b"),
    # --- drugs and alcohol ------------------------------------------------------------------------------------
    rule("how to use drugs", DRUGS, rf"\b{_ASKING}\b.{{0,25}}\b(?:get|buy|make|cook|grow|smoke|vape|snort|inject|take|try|use|hide|sneak|score|roll|drink)\b.{{0,25}}\b{_DRUG}\b"),
    rule("get high", DRUGS, r"\b(?:i|me|we|you|u|kids|to|can|and|someone|somebody|people|a person|a kid) get(?:ting)? (?:high|stoned|drunk|wasted|buzzed|tipsy|baked)\b(?! (?:in|up|on|into|above|enough|temperatures?|pressure))|\b(?:make|makes|made) (?:you|me|people) (?:high|drunk|stoned)\b"),
    rule("drugs that feel good", DRUGS, r"\b(?:drugs?|pills)\b.{0,25}\b(?:make|makes) you (?:feel )?(?:happy|good|high|great|weird|funny)\b.{0,40}\b(?:how|where|get|buy|take)\b"),
    rule("smoke drugs", DRUGS, r"\b(?:smoke|smoking|vape|vaping) (?:weed|pot|a joint|joints|crack|meth|a blunt)\b|\b(?:roll|rolling) (?:a )?(?:joint|blunt)\b"),
    rule("buy drugs", DRUGS, rf"\b(?:buy|buying|sell|selling|deal|dealing|get|find) (?:some )?{_DRUG}\b.{{0,25}}\b(?:near|at|in|from) (?:my |the )?(?:school|house|home|park|street|area)\b|\bdrug dealers?\b"),
    rule("where to buy drugs", DRUGS, rf"\b(?:where|how) (?:do|can|could|would|does|should) (?:i|you|people|kids|someone|a kid|we) (?:buy|get|find|score|order) (?:some |any )?{_DRUG}\b"),
    rule("sneak alcohol", DRUGS, rf"\b(?:sneak|hide|steal)\b.{{0,20}}\b{_DRUG}\b"),
    rule("how much to get drunk", DRUGS, r"\bhow much\b.{0,40}\b(?:to get|get|until i'?m|to be) (?:drunk|high|wasted)\b"),
    rule("take to feel weird", DRUGS, r"\b(?:take|eat|drink|smoke|sniff|swallow)\b.{0,20}\bto (?:feel|get|be) (?:really |super |very )?(?:weird|high|funny|dizzy|buzzed|drunk|wasted|floaty|trippy|stoned)\b"),
    rule("try drugs", DRUGS, r"\b(?:try|trying|take|taking) (?:cocaine|coke|meth|heroin|lsd|ecstasy|mdma|molly|shrooms|crack|ketamine)\b"),
    # --- bad language ---------------------------------------------------------------------------------------------
    rule("rude words", BAD_LANGUAGE, r"\b(?:tell|say|teach|give|write|list|what are|know any|use)\b.{0,20}\b(?:dirty|rude|naughty|bad|swear|curse|cuss|gross|adult) (?:jokes?|words?|language|names)\b|\bswear ?words?\b|\bcuss words?\b"),
    # --- crime ------------------------------------------------------------------------------------------------
    rule("how to steal", CRIME, rf"\b{_ASKING}\b.{{0,25}}\b(?:steal|shoplift|rob|break into|pick (?:a|the) lock|hack into|hotwire|vandali[sz]e|graffiti)\b"),
    rule("steal without getting caught", CRIME, r"\b(?:steal|shoplift|rob|break into|sneak into)\b.{0,40}\bwithout (?:getting caught|anyone (?:knowing|noticing|seeing)|being seen)\b"),
    # --- light signals: a dangerous thing named, without intent --------------------------------------------------
    rule("procedural", WEAPONS, r"\b(?:step by step|all the steps|exact (?:amounts?|steps|recipe)|ingredients|in detail|be realistic|realistic(?:ally)?|real instructions|what (?:would|do|does) (?:they|i|you|someone|he|she|a person) need)\b", weight=0.3),
    rule("mentions crime", CRIME, r"\b(?:steal|stealing|shoplift\w*|break into|pick (?:a|the) lock|without getting caught)\b", weight=0.4),
    rule("mentions a weapon", WEAPONS, rf"\b{_WEAPON}\b", weight=0.35),
    rule("mentions drugs", DRUGS, r"\b(?:cocaine|meth|heroin|weed|marijuana|vodka|beer|drunk|high|vape|pills)\b", weight=0.3),
    rule("mentions violence", VIOLENCE, rf"\b{_HARM}\b.{{0,30}}\b{_PEOPLE}\b", weight=0.35),
    rule("mentions sex", SEXUAL, r"\b(?:sex|naked|nude|kiss(?:ing)?)\b", weight=0.3),
]
